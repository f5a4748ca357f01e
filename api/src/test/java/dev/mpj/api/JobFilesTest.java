package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.Violation;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobFilesTest {

  @Test
  void defaultsAreThoseOfGradScalerAndTheDesign() {
    MixedPrecisionJob job = JobFiles.parse(TestManifests.VALID_JOB);
    LossScalingSpec s = job.getSpec().lossScaling;
    assertThat(s.mode).isEqualTo(LossScalingSpec.Mode.DYNAMIC);
    assertThat(s.initialScale).isEqualTo(65536.0);
    assertThat(s.growthFactor).isEqualTo(2.0);
    assertThat(s.backoffFactor).isEqualTo(0.5);
    assertThat(s.growthInterval).isEqualTo(2000);
    assertThat(job.getSpec().replicas.min).isEqualTo(1);
    assertThat(job.getSpec().runPolicy.backoffLimit).isEqualTo(3);
  }

  @Test
  void unknownFieldIsRefusedWithItsPath() {
    assertThatThrownBy(
            () ->
                JobFiles.parse(
                    TestManifests.VALID_JOB.replace("steps: 10", "steps: 10\n    stpes: 20")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e ->
                assertThat(e.violations())
                    .containsExactly(
                        new Violation("spec.training.stpes", "unknown field \"stpes\"")));
  }

  @Test
  void wrongTypeIsRefusedWithItsPath() {
    assertThatThrownBy(
            () ->
                JobFiles.parse(
                    TestManifests.VALID_JOB.replace(
                        "globalBatchSize: 32", "globalBatchSize: lots")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e ->
                assertThat(e.violations().get(0).field())
                    .isEqualTo("spec.training.globalBatchSize"));
  }

  @Test
  void wrongKindIsRefused() {
    assertThatThrownBy(
            () ->
                JobFiles.parse(
                    TestManifests.VALID_JOB.replace("kind: MixedPrecisionJob", "kind: Job")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("kind"));
  }

  @Test
  void missingFileNamesTheFlag(@TempDir Path dir) {
    assertThatThrownBy(() -> JobFiles.read(dir.resolve("absent.yaml")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e -> assertThat(e.violations().get(0).message()).contains("file not found"));
  }

  @Test
  void readValidatesSemantics(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file, TestManifests.VALID_JOB.replace("globalBatchSize: 32", "globalBatchSize: -1"));
    assertThatThrownBy(() -> JobFiles.read(file))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e -> assertThat(e.getMessage()).contains("spec.training.globalBatchSize"));
  }

  @Test
  void writesWhatItReads() {
    MixedPrecisionJob job = JobFiles.parse(TestManifests.VALID_JOB);
    MixedPrecisionJob again = JobFiles.parse(JobFiles.toYaml(job));
    assertThat(JobFiles.toYaml(again)).isEqualTo(JobFiles.toYaml(job));
  }
}
