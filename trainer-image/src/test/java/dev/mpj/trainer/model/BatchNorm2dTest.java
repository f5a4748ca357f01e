package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
}
