package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.health.HealthWatch;
import dev.mpj.trainer.health.TrainingHealth;
import dev.mpj.trainer.health.TrainingHealth.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real training runs judged by the health watch, step by step. */
class TrainingHealthRunTest {
  @TempDir Path dir;

  @Test
  void aHealthyMixedRunAndItsFp32TwinStayHealthyAtEveryStep() {
    String spec = Jobs.mlpClassification(150, 32) + "health: {windowSteps: 50}\n";
    for (String precision : List.of("fp16-mixed", "fp32")) {
      List<TrainingHealth.Assessment> seen = run(Jobs.job(precision, spec));
      assertThat(seen).hasSize(150);
      assertThat(seen)
          .as(precision)
          .allSatisfy(a -> assertThat(a.reasons()).as("step %d", a.step()).isEmpty());
      assertThat(seen.get(149).stepsInWindow()).isEqualTo(50);
    }
  }

  @Test
  void staticScaleOneFlushesFp16GradientsAndTheRunTurnsUnhealthyOnceTheWindowIsFull()
      throws IOException {
    List<TrainingHealth.Assessment> seen =
        run(
            Jobs.job(
                "fp16-mixed",
                regression("lossScaling: {mode: static, initialScale: 1}", tinyGradientCsv())));
    assertThat(seen.subList(0, 9)).allSatisfy(a -> assertThat(a.healthy()).isTrue());
    assertThat(seen.subList(9, 30))
        .allSatisfy(a -> assertThat(a.reasons()).containsExactly(Reason.GRADIENTS_UNDERFLOW));
  }

  @Test
  void theSameTaskWithDynamicScalingOrInFp32StaysHealthy() throws IOException {
    Path csv = tinyGradientCsv();
    for (String job :
        List.of(
            Jobs.job("fp16-mixed", regression("lossScaling: {mode: dynamic}", csv)),
            Jobs.job("fp32", regression("", csv)))) {
      List<TrainingHealth.Assessment> seen = run(job);
      assertThat(seen).allSatisfy(a -> assertThat(a.reasons()).as(job).isEmpty());
    }
  }

  @Test
  void aMinimumScaleThatOverflowsFp16IsReportedAtTheFirstStep() {
    String spec =
        Jobs.mlpClassification(20, 32)
            + "lossScaling: {mode: dynamic, initialScale: 16777216, minScale: 16777216}\n"
            + "health: {windowSteps: 10}\n";
    List<TrainingHealth.Assessment> seen = run(Jobs.job("fp16-mixed", spec));
    assertThat(seen.get(0).reasons()).containsExactly(Reason.LOSS_SCALE_AT_MINIMUM);
    assertThat(seen.get(19).reasons())
        .as("every step skipped: the ratio is over the full window too")
        .containsExactly(Reason.LOSS_SCALE_AT_MINIMUM, Reason.SKIPPED_STEPS_HIGH);
    assertThat(seen.get(19).skippedStepsInWindow()).isEqualTo(10);
  }

  private static List<TrainingHealth.Assessment> run(String yaml) {
    List<TrainingHealth.Assessment> seen = new ArrayList<>();
    try (TrainingSession session = Jobs.session(yaml, null)) {
      RunConfig config = session.config();
      HealthWatch watch = new HealthWatch(config);
      session.addListener(watch);
      session.addListener(
          new TrainingListener() {
            @Override
            public void onStep(StepResult step) {
              seen.add(watch.health().assessment());
            }
          });
      session.run();
    }
    return seen;
  }

  /** LossScalingDemonstrationTest's task: weight gradients around 1e-8, below FP16's range. */
  private Path tinyGradientCsv() throws IOException {
    Path csv = dir.resolve("tiny.csv");
    StringBuilder text = new StringBuilder("a,b,c,d,e,f,g,h,target\n");
    Random random = new Random(3);
    for (int row = 0; row < 256; row++) {
      for (int f = 0; f < 8; f++) {
        text.append((0.3 + 0.3 * random.nextDouble()) * 1e-4).append(',');
      }
      text.append((random.nextDouble() + 0.5) * 1e-5).append('\n');
    }
    Files.writeString(csv, text);
    return csv;
  }

  private static String regression(String scaling, Path csv) {
    return """
        %s
        model:
          architecture: mlp
          mlp: {hiddenSizes: []}
        data:
          source: csv
          csv: {path: %s, labelColumn: target, task: regression}
          validationFraction: 0
        training:
          globalBatchSize: 64
          steps: 30
          optimizer: {type: sgd, learningRate: 0.01}
          seed: 0
        health: {windowSteps: 10}
        """
        .formatted(scaling, csv);
  }
}
