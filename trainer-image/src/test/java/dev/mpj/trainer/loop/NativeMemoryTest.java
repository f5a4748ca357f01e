package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Every step's arrays are closed with the step: the number of live native arrays does not grow. */
class NativeMemoryTest {

  @Test
  void noNativeArrayOutlivesItsStep() {
    String spec =
        Jobs.mlpClassification(400, 16) + "parity: {intervalSteps: 50, maxRelativeGap: 1.0}\n";
    try (TrainingSession session = Jobs.session(Jobs.job("fp16-mixed", spec), 16)) {
      for (int i = 0; i < 10; i++) {
        session.runStep();
      }
      int afterWarmUp = session.liveArrays();
      for (int i = 0; i < 390; i++) {
        session.runStep();
      }
      assertThat(session.liveArrays()).isEqualTo(afterWarmUp);
    }
  }
}
