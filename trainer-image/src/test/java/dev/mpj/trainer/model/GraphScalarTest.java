package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The root cause of the random FP16 CNN overflow (issue 22), reproduced: a number that DJL wraps
 * for an operation autograd records lives in a Java buffer that DJL releases at once; a garbage
 * collection between forward and backward frees it, and backward divides by whatever the memory
 * holds then. A {@link GraphScalar} does not depend on when the collector runs.
 */
class GraphScalarTest {
  private static final int TRIALS = 5;
  private static final int DIVISIONS = 20;

  @Test
  void djlsWrappedNumberIsFreedMemoryWhenBackwardReadsIt() throws Exception {
    int wrong = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
      float gradient = gradientAfterCollection((m, x) -> x.div(1f));
      if (gradient != 1f) {
        wrong++;
      }
    }
    assertThat(wrong).as("trials whose gradient is not 1 after a collection").isPositive();
  }

  @Test
  void aGraphScalarIsIntactWhenBackwardReadsIt() throws Exception {
    for (int trial = 0; trial < TRIALS; trial++) {
      assertThat(gradientAfterCollection((m, x) -> x.div(GraphScalar.of(m, 1f)))).isEqualTo(1f);
    }
  }

  @Test
  void keepsAnFp16OperandInFp16() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.ones(new Shape(3), DataType.FLOAT16);
      NDArray y = x.div(GraphScalar.of(manager, 3f));
      assertThat(y.getDataType()).isEqualTo(DataType.FLOAT16);
      assertThat(y.toType(DataType.FLOAT32, false).toFloatArray())
          .containsExactly(x.div(3f).toType(DataType.FLOAT32, false).toFloatArray());
    }
  }

  /**
   * d/dx of sum(x / 1 / 1 ... / 1) in FP16, with a full collection (and time for the buffers'
   * cleaners) between forward and backward.
   */
  private static float gradientAfterCollection(BiFunction<NDManager, NDArray, NDArray> divide)
      throws InterruptedException {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.ones(new Shape(4), DataType.FLOAT16);
      x.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray y = x;
        for (int i = 0; i < DIVISIONS; i++) {
          y = divide.apply(manager, y);
        }
        NDArray loss = y.sum();
        System.gc();
        Thread.sleep(50);
        collector.backward(loss);
      }
      return x.getGradient().toType(DataType.FLOAT32, false).getFloat(0);
    }
  }
}
