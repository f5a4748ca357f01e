package dev.mpj.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mpj.api.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The update rules against values worked out by hand from PyTorch's AdamW and SGD formulas, and
 * against the whole-array arithmetic they replace.
 */
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
      // libtorch's kernel takes 1 - b2 in FP32: 1 - 0.999f is 1.3e-5 (relative) off 0.001.
      assertThat(adam.state().get(1).array().toFloatArray()[1]).isCloseTo(0.016f, within(4e-7f));
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

  /**
   * The piecewise update against the whole-array arithmetic of PyTorch's formulas (written here as
   * the trainer wrote them before the update ran in pieces: new arrays for every intermediate),
   * over three steps, on a parameter of several pieces and a small one, with FP32 and FP16
   * gradients and a gradient factor of 1 and of 1/1024. SGD runs the same operations in the same
   * order on the same values: the same bits. Adam runs libtorch's fused kernel, AdamW's step in
   * exact arithmetic with other roundings: every weight within 1e-6 of the reference (the steps
   * move them by about 3e-2: the learning rate 0.01 times 3), every moment within 1e-5 of its value
   * relative to the largest.
   */
  @Test
  void piecewiseUpdatesMatchTheWholeArrayArithmetic() {
    for (TrainingSpec.OptimizerType type : TrainingSpec.OptimizerType.values()) {
      for (DataType gradientType : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
        for (float factor : new float[] {1f, 1f / 1024}) {
          for (double weightDecay : new double[] {0, 0.1}) {
            TrainingSpec.Optimizer spec = new TrainingSpec.Optimizer();
            spec.type = type;
            spec.learningRate = 0.01;
            spec.weightDecay = weightDecay;
            spec.momentum = 0.9;
            String label =
                "%s, %s gradients, factor %s, weight decay %s"
                    .formatted(type, gradientType, factor, weightDecay);
            try (NDManager manager = NDManager.newBaseManager()) {
              manager.getEngine().setRandomSeed(7);
              List<NDArray> weights =
                  List.of(
                      manager.randomNormal(new Shape(700, 1000)),
                      manager.randomNormal(new Shape(10)));
              List<NDArray> reference = weights.stream().map(NDArray::duplicate).toList();
              Optimizer lean = Optimizer.of(spec, List.of("a", "b"), weights, manager);
              Reference whole = new Reference(spec, reference, manager);
              assertThat(Slices.count(weights.get(0))).isEqualTo(3);
              assertThat(Slices.count(weights.get(0), Slices.FUSED_ELEMENTS)).isEqualTo(11);
              for (int step = 0; step < 3; step++) {
                List<NDArray> gradients =
                    weights.stream()
                        .map(w -> manager.randomNormal(w.getShape()).toType(gradientType, false))
                        .toList();
                List<NDArray> before = gradients.stream().map(NDArray::duplicate).toList();
                lean.step(weights, gradients, factor);
                for (int i = 0; i < gradients.size(); i++) {
                  assertThat(mismatches(gradients.get(i), before.get(i)))
                      .as("%s: gradient %d unchanged", label, i)
                      .isZero();
                }
                whole.step(
                    reference,
                    gradients.stream()
                        .map(g -> g.toType(DataType.FLOAT32, true).mul(factor))
                        .toList());
              }
              for (int i = 0; i < weights.size(); i++) {
                if (type == TrainingSpec.OptimizerType.SGD) {
                  assertThat(mismatches(weights.get(i), reference.get(i)))
                      .as("%s, parameter %d", label, i)
                      .isZero();
                } else {
                  assertThat(largestDifference(weights.get(i), reference.get(i)))
                      .as("%s, parameter %d", label, i)
                      .isLessThan(1e-6f);
                }
              }
              for (int i = 0; i < lean.state().size(); i++) {
                NDArray actual = lean.state().get(i).array();
                NDArray expected = whole.state.get(i);
                if (type == TrainingSpec.OptimizerType.SGD) {
                  assertThat(mismatches(actual, expected)).as("%s, state %d", label, i).isZero();
                } else {
                  assertThat(largestDifference(actual, expected))
                      .as("%s, state %d", label, i)
                      .isLessThanOrEqualTo(3e-5f * largest(expected));
                }
              }
            }
          }
        }
      }
    }
  }

  /** The update's arithmetic is a function of its inputs: the same inputs, the same bits. */
  @Test
  void adamIsDeterministic() {
    TrainingSpec.Optimizer spec = new TrainingSpec.Optimizer();
    spec.weightDecay = 0.1;
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      NDArray start = manager.randomNormal(new Shape(300, 1000));
      NDArray gradient = manager.randomNormal(new Shape(300, 1000)).toType(DataType.FLOAT16, true);
      List<NDArray> runs = new ArrayList<>();
      for (int run = 0; run < 2; run++) {
        NDArray w = start.duplicate();
        Optimizer adam = Optimizer.of(spec, List.of("w"), List.of(w), manager);
        for (int step = 0; step < 3; step++) {
          adam.step(List.of(w), List.of(gradient), 1f / 512);
        }
        runs.add(w);
        runs.add(adam.state().get(0).array());
        runs.add(adam.state().get(1).array());
      }
      for (int i = 0; i < 3; i++) {
        assertThat(mismatches(runs.get(i), runs.get(i + 3))).isZero();
      }
    }
  }

  /** The largest difference, relative to the expected magnitude where that is above 1. */
  private static float largestDifference(NDArray actual, NDArray expected) {
    float[] a = actual.toFloatArray();
    float[] e = expected.toFloatArray();
    float largest = 0;
    for (int i = 0; i < a.length; i++) {
      largest = Math.max(largest, Math.abs(a[i] - e[i]) / Math.max(1, Math.abs(e[i])));
    }
    return largest;
  }

  private static float largest(NDArray array) {
    float largest = 0;
    for (float value : array.toFloatArray()) {
      largest = Math.max(largest, Math.abs(value));
    }
    return largest;
  }

  /** Elements whose bits differ. */
  private static int mismatches(NDArray actual, NDArray expected) {
    float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
    float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
    int different = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(e[i])) {
        different++;
      }
    }
    return different;
  }

  /** Adam and SGD as the trainer wrote them before the update ran in pieces. */
  private static final class Reference {
    final TrainingSpec.Optimizer spec;
    final List<NDArray> state = new ArrayList<>();
    long updates;

    Reference(TrainingSpec.Optimizer spec, List<NDArray> weights, NDManager manager) {
      this.spec = spec;
      for (NDArray w : weights) {
        state.add(manager.zeros(w.getShape()));
        if (spec.type == TrainingSpec.OptimizerType.ADAM) {
          state.add(manager.zeros(w.getShape()));
        }
      }
    }

    void step(List<NDArray> weights, List<NDArray> gradients) {
      double lr = spec.learningRate;
      updates++;
      for (int i = 0; i < weights.size(); i++) {
        NDArray w = weights.get(i);
        NDArray g = gradients.get(i);
        w.muli(1 - lr * spec.weightDecay);
        if (spec.type == TrainingSpec.OptimizerType.SGD) {
          NDArray b = state.get(i);
          b.muli(spec.momentum).addi(g);
          w.subi(b.mul(lr));
          continue;
        }
        NDArray m = state.get(2 * i);
        NDArray v = state.get(2 * i + 1);
        double correction1 = 1 - Math.pow(spec.beta1, updates);
        double sqrtCorrection2 = Math.sqrt(1 - Math.pow(spec.beta2, updates));
        float stepSize = (float) (lr / correction1);
        m.muli(spec.beta1).addi(g.mul(1 - spec.beta1));
        v.muli(spec.beta2).addi(g.square().muli(1 - spec.beta2));
        NDArray denominator = v.sqrt().divi(sqrtCorrection2).addi(spec.epsilon);
        w.subi(m.div(denominator).muli(stepSize));
      }
    }
  }
}
