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

  /**
   * The same with a layer of several update pieces (512 x 600 weights), both precisions and both
   * optimizers: the pieces' views and temporaries are closed with their piece.
   */
  @Test
  void noNativeArrayOutlivesAStepOfSeveralUpdatePieces() {
    for (String precision : new String[] {"fp32", "fp16-mixed"}) {
      for (String optimizer : new String[] {"adam", "sgd"}) {
        String spec =
            """
            model:
              architecture: mlp
              mlp: {hiddenSizes: [600]}
            data:
              source: synthetic
              synthetic: {task: classification, samples: 256, features: 512, classes: 4}
              validationFraction: 0
            training:
              globalBatchSize: 16
              steps: 30
              optimizer: {type: %s, learningRate: 0.001, momentum: 0.9}
              gradientClipNorm: 0.5
              seed: 0
            """
                .formatted(optimizer);
        try (TrainingSession session = Jobs.session(Jobs.job(precision, spec), null)) {
          for (int i = 0; i < 5; i++) {
            session.runStep();
          }
          int afterWarmUp = session.liveArrays();
          for (int i = 0; i < 25; i++) {
            session.runStep();
          }
          assertThat(session.liveArrays()).as(precision + " " + optimizer).isEqualTo(afterWarmUp);
        }
      }
    }
  }
}
