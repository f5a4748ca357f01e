package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class BatchNorm2dTest {

  @Test
  void normalisesLargeFp16ActivationsWithoutOverflow() {
    try (NDManager manager = NDManager.newBaseManager()) {
      BatchNorm2d norm = new BatchNorm2d(2);
      Shape shape = new Shape(8, 2, 4, 4);
      norm.initialize(manager, DataType.FLOAT16, shape);
      // values around 1000 +- 500: their squares (up to 2e6) are far beyond FP16's 65504
      NDArray x =
          manager
              .randomNormal(0, 500, shape, DataType.FLOAT32)
              .add(1000)
              .toType(DataType.FLOAT16, false);
      NDArray y = norm.forward(new ParameterStore(manager, false), new NDList(x), true).head();
      assertThat(y.getDataType()).isEqualTo(DataType.FLOAT16);
      float[] out = y.toType(DataType.FLOAT32, false).toFloatArray();
      double sum = 0;
      double squares = 0;
      for (float v : out) {
        assertThat(v).isFinite();
        sum += v;
        squares += v * v;
      }
      assertThat(sum / out.length).isCloseTo(0, within(0.01));
      assertThat(squares / out.length).isCloseTo(1, within(0.02));
    }
  }

  /**
   * The fused kernel against the elementwise arithmetic it replaced (mean, centred values, mean of
   * squares, divide by the root, gamma, beta; running statistics from the unbiased variance with
   * momentum 0.1), in FP32: outputs within 2e-6 absolute (they are of order 1), gradients within
   * 1e-4 of their largest magnitude, running statistics within 1e-6.
   */
  @Test
  void fusedKernelMatchesTheElementwiseArithmetic() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      Shape shape = new Shape(8, 3, 5, 5);
      BatchNorm2d norm = new BatchNorm2d(3);
      norm.initialize(manager, DataType.FLOAT32, shape);
      NDArray gammaValues = manager.create(new float[] {0.5f, 1.5f, -2f});
      NDArray betaValues = manager.create(new float[] {0.1f, -0.3f, 2f});
      norm.getParameters().get("gamma").getArray().set(gammaValues.toFloatArray());
      norm.getParameters().get("beta").getArray().set(betaValues.toFloatArray());
      NDArray x = manager.randomNormal(2, 3, shape, DataType.FLOAT32);
      NDArray w = manager.randomNormal(0, 1, shape, DataType.FLOAT32);

      NDArray xFused = x.duplicate();
      xFused.setRequiresGradient(true);
      NDArray yFused;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        yFused = norm.forward(new ParameterStore(manager, false), new NDList(xFused), true).head();
        collector.backward(yFused.mul(w).sum());
      }

      NDArray xRef = x.duplicate();
      NDArray g = gammaValues.duplicate();
      NDArray b = betaValues.duplicate();
      xRef.setRequiresGradient(true);
      g.setRequiresGradient(true);
      b.setRequiresGradient(true);
      NDArray yRef;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        Shape perChannel = new Shape(1, 3, 1, 1);
        NDArray mean = perChannelMean(xRef);
        NDArray centred = xRef.sub(mean);
        NDArray var = perChannelMean(centred.square());
        yRef =
            centred
                .div(var.add(1e-5f).sqrt())
                .mul(g.reshape(perChannel))
                .add(b.reshape(perChannel));
        collector.backward(yRef.mul(w).sum());
      }
      long count = 8 * 5 * 5;
      NDArray batchMean = perChannelMean(x).reshape(3);
      NDArray unbiased =
          perChannelMean(x.sub(perChannelMean(x)).square()).reshape(3).mul(count / (count - 1.0));
      NDArray expectedMean = batchMean.mul(0.1f);
      NDArray expectedVar = unbiased.mul(0.1f).add(0.9f);

      assertClose(yFused, yRef, 2e-6);
      assertClose(xFused.getGradient(), xRef.getGradient(), 1e-4 * maxAbs(xRef.getGradient()));
      assertClose(
          norm.getParameters().get("gamma").getArray().getGradient(),
          g.getGradient(),
          1e-4 * maxAbs(g.getGradient()));
      assertClose(
          norm.getParameters().get("beta").getArray().getGradient(),
          b.getGradient(),
          1e-4 * maxAbs(b.getGradient()));
      assertClose(norm.getParameters().get("runningMean").getArray(), expectedMean, 1e-6);
      assertClose(norm.getParameters().get("runningVar").getArray(), expectedVar, 1e-6);
    }
  }

  /**
   * In an FP16 model the running statistics stay FP32 and are the FP32 statistics of the FP16 batch
   * (within 1e-6 of the elementwise FP32 arithmetic on the upcast batch).
   */
  @Test
  void runningStatisticsOfAnFp16ModelStayFp32() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Shape shape = new Shape(16, 2, 4, 4);
      BatchNorm2d norm = new BatchNorm2d(2);
      norm.initialize(manager, DataType.FLOAT16, shape);
      NDArray x16 =
          manager.randomNormal(1, 2, shape, DataType.FLOAT32).toType(DataType.FLOAT16, false);
      norm.forward(new ParameterStore(manager, false), new NDList(x16), true);
      NDArray runningMean = norm.getParameters().get("runningMean").getArray();
      NDArray runningVar = norm.getParameters().get("runningVar").getArray();
      assertThat(runningMean.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(runningVar.getDataType()).isEqualTo(DataType.FLOAT32);
      NDArray x = x16.toType(DataType.FLOAT32, false);
      long count = 16 * 4 * 4;
      NDArray mean = perChannelMean(x);
      NDArray unbiased = perChannelMean(x.sub(mean).square()).reshape(2).mul(count / (count - 1.0));
      assertClose(runningMean, mean.reshape(2).mul(0.1f), 1e-6);
      assertClose(runningVar, unbiased.mul(0.1f).add(0.9f), 1e-6);
    }
  }

  private static NDArray perChannelMean(NDArray x) {
    return x.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);
  }

  private static double maxAbs(NDArray x) {
    return x.abs().max().getFloat();
  }

  private static void assertClose(NDArray actual, NDArray expected, double tolerance) {
    float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
    float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
    assertThat(a).hasSameSizeAs(e);
    for (int i = 0; i < a.length; i++) {
      assertThat((double) a[i]).as("element %d", i).isCloseTo(e[i], within(tolerance));
    }
  }
}
