package dev.mpj.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mpj.api.TrainingSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The update rules against values worked out by hand from PyTorch's AdamW and SGD formulas. */
class OptimizerTest {

  @Test
  void adamMatchesPyTorchsAdamW() {
    TrainingSpec.Optimizer spec = new TrainingSpec.Optimizer();
    spec.learningRate = 0.1;
    spec.weightDecay = 0.5;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.create(new float[] {1f, -2f});
      Optimizer adam = Optimizer.of(spec, List.of("w"), List.of(w), manager);
      // step 1: w *= 1 - 0.1*0.5; m = 0.1 g; v = 0.001 g^2; w -= 0.1/0.1 * m / (sqrt(v)/sqrt(0.001)
      // + 1e-8)
      adam.step(List.of(w), List.of(manager.create(new float[] {0.5f, -4f})));
      assertThat(w.toFloatArray()[0]).isCloseTo(0.95f - 0.1f, within(1e-6f));
      assertThat(w.toFloatArray()[1]).isCloseTo(-1.9f + 0.1f, within(1e-6f));
      assertThat(adam.updates()).isEqualTo(1);
      assertThat(adam.state()).extracting(Optimizer.NamedArray::name).containsExactly("m/w", "v/w");
      assertThat(adam.state().get(0).array().toFloatArray()[0]).isCloseTo(0.05f, within(1e-7f));
      assertThat(adam.state().get(1).array().toFloatArray()[1]).isCloseTo(0.016f, within(1e-7f));
    }
  }

  @Test
  void sgdWithMomentumMatchesPyTorch() {
    TrainingSpec.Optimizer spec = new TrainingSpec.Optimizer();
    spec.type = TrainingSpec.OptimizerType.SGD;
    spec.learningRate = 0.1;
    spec.momentum = 0.9;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray w = manager.create(new float[] {1f});
      Optimizer sgd = Optimizer.of(spec, List.of("w"), List.of(w), manager);
      sgd.step(List.of(w), List.of(manager.create(new float[] {2f}))); // b = 2, w = 1 - 0.2
      sgd.step(
          List.of(w), List.of(manager.create(new float[] {1f}))); // b = 1.8 + 1, w = 0.8 - 0.28
      assertThat(w.toFloatArray()[0]).isCloseTo(0.52f, within(1e-6f));
    }
  }
}
