package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A listener's scalars ride in the step's one read-back (with the gradient norms and the losses)
 * and come back to it in order, without changing what the step computes.
 */
class ListenerReadBackTest {

  /** Asks for each gradient's sum; reads the same sums itself, for the test only. */
  private static final class Sums implements TrainingListener {
    final List<float[]> expected = new ArrayList<>();
    final List<float[]> received = new ArrayList<>();
    final List<Long> steps = new ArrayList<>();

    @Override
    public List<NDArray> toReadBack(long step, List<NDArray> gradients) {
      float[] sums = new float[gradients.size()];
      List<NDArray> wanted = new ArrayList<>();
      for (int i = 0; i < gradients.size(); i++) {
        NDArray sum = gradients.get(i).toType(DataType.FLOAT32, false).sum();
        sums[i] = sum.getFloat();
        wanted.add(sum);
      }
      expected.add(sums);
      return wanted;
    }

    @Override
    public void afterReadBack(long step, float[] values) {
      steps.add(step);
      received.add(values);
    }
  }

  private static List<Double> losses(String precision, TrainingListener... listeners) {
    List<Double> losses = new ArrayList<>();
    try (TrainingSession session =
        Jobs.session(Jobs.job(precision, Jobs.mlpClassification(4, 16)), 32)) {
      for (TrainingListener l : listeners) {
        session.addListener(l);
      }
      // Two micro-batches per step: two losses ahead of the listener's values.
      session.addListener(
          new TrainingListener() {
            @Override
            public void onStep(StepResult step) {
              losses.add(step.loss());
            }
          });
      session.run();
    }
    return losses;
  }

  @Test
  void aListenersScalarsComeBackInOrderAndTheStepIsUnchanged() {
    for (String precision : List.of("fp32", "fp16-mixed")) {
      Sums sums = new Sums();
      List<Double> with = losses(precision, sums);
      assertThat(sums.steps).as(precision).containsExactly(1L, 2L, 3L, 4L);
      for (int s = 0; s < 4; s++) {
        assertThat(sums.received.get(s)).as(precision + " step " + (s + 1)).hasSize(6);
        assertThat(sums.received.get(s)).isEqualTo(sums.expected.get(s));
      }
      assertThat(with).as(precision).isEqualTo(losses(precision));
    }
  }
}
