package dev.mpj.trainer.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.validation.InvalidJobException;
import org.junit.jupiter.api.Test;

class RunConfigTest {
  private static MixedPrecisionJob job(String training) {
    return JobFiles.parse(
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: j}
        spec:
          precision: fp32
          model: {architecture: mlp}
          data: {source: synthetic}
          training: %s
        """
            .formatted(training));
  }

  @Test
  void standaloneIsOneMicroBatchUnlessAskedOtherwise() {
    MixedPrecisionJob job = job("{globalBatchSize: 100, steps: 3}");
    RunConfig whole = RunConfig.standalone(job, null);
    assertThat(whole.microBatch()).isEqualTo(100);
    assertThat(whole.accumulation()).isEqualTo(1);
    assertThat(whole.rank()).isZero();
    assertThat(whole.replicas()).isEqualTo(1);
    RunConfig split = RunConfig.standalone(job, 30);
    assertThat(split.microBatch()).isEqualTo(30);
    assertThat(split.accumulation()).isEqualTo(4);
    assertThatThrownBy(() -> RunConfig.standalone(job, 0)).hasMessageContaining("--micro-batch");
  }

  @Test
  void epochsBecomeSteps() {
    RunConfig config = RunConfig.standalone(job("{globalBatchSize: 64, epochs: 3}"), null);
    assertThat(config.steps(1000)).isEqualTo(3 * 16);
  }

  @Test
  void operatorsConfigMustHoldTheGlobalBatch() {
    TrainerConfig config = new TrainerConfig();
    config.spec = job("{globalBatchSize: 128, steps: 3}").getSpec();
    config.replicas = 2;
    config.microBatch = 16;
    config.gradientAccumulation = 4;
    assertThat(RunConfig.fromTrainerConfig(config, 1).rank()).isEqualTo(1);
    config.gradientAccumulation = 3;
    assertThatThrownBy(() -> RunConfig.fromTrainerConfig(config, 0))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("gradientAccumulation");
    config.gradientAccumulation = 4;
    assertThatThrownBy(() -> RunConfig.fromTrainerConfig(config, 2))
        .hasMessageContaining("MPJ_RANK");
  }

  @Test
  void replicaTakesEveryRthRowAndCutsItIntoMicroBatches() {
    TrainerConfig config = new TrainerConfig();
    config.spec = job("{globalBatchSize: 7, steps: 1}").getSpec();
    config.replicas = 2;
    config.microBatch = 2;
    config.gradientAccumulation = 2;
    int[] global = {10, 11, 12, 13, 14, 15, 16};
    assertThat(RunConfig.fromTrainerConfig(config, 0).microBatches(global))
        .containsExactly(new int[] {10, 12}, new int[] {14, 16});
    assertThat(RunConfig.fromTrainerConfig(config, 1).microBatches(global))
        .containsExactly(new int[] {11, 13}, new int[] {15});
  }
}
