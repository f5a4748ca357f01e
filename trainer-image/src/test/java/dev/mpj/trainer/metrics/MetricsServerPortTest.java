package dev.mpj.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.JobFiles;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.config.RunConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where the port and the labels come from: the flag before the pod's environment, the pod's job
 * name before the file's.
 */
class MetricsServerPortTest {

  @Test
  void theFlagWinsOverTheEnvironmentAndNeitherMeansNoServer() {
    assertThat(MetricsServer.port(9500, Map.of("MPJ_METRICS_PORT", "9400"))).isEqualTo(9500);
    assertThat(MetricsServer.port(null, Map.of("MPJ_METRICS_PORT", " 9400 "))).isEqualTo(9400);
    assertThat(MetricsServer.port(null, Map.of())).isNull();
    assertThat(MetricsServer.port(null, Map.of("MPJ_METRICS_PORT", ""))).isNull();
  }

  @Test
  void aPortOutOfRangeNamesWhereItCameFrom() {
    assertThatThrownBy(() -> MetricsServer.port(70000, Map.of()))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("--metrics-port")
        .hasMessageContaining("70000");
    assertThatThrownBy(() -> MetricsServer.port(null, Map.of("MPJ_METRICS_PORT", "-1")))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("MPJ_METRICS_PORT");
  }

  @Test
  void labelsComeFromThePodThenTheJob() {
    RunConfig config =
        RunConfig.standalone(
            JobFiles.parse(
                """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: in-the-file}
        spec:
          precision: fp32
          model: {architecture: mlp, mlp: {hiddenSizes: [8], activation: relu}}
          data: {source: synthetic, synthetic: {task: classification, samples: 64, features: 4, classes: 2}}
          training: {globalBatchSize: 8, steps: 1, optimizer: {type: adam, learningRate: 0.001}}
        """),
            null);
    assertThat(JobLabels.of(config, "team-a", Map.of("MPJ_JOB_NAME", "digits")))
        .isEqualTo(new JobLabels("digits", "team-a", 0));
    assertThat(JobLabels.of(config, null, Map.of()))
        .isEqualTo(new JobLabels("in-the-file", "default", 0));
  }
}
