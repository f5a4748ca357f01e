package dev.mpj.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * Batches are written from the Java arrays straight into libtorch tensors of their final type: the
 * rows in the order asked for, FP16 rounded exactly as libtorch casts FP32, ids as int64.
 */
class BatchTest {
  private static final int[] ROWS = {5, 0, 17, 5, 3};

  @Test
  void featuresArriveAsTheRowsAskedForInFp32AndFp16() {
    // values far outside [-1, 1], subnormal in FP16, and beyond FP16's range, to test rounding
    Dataset data = SyntheticData.regression(20, 6, 4);
    float[] inputs = data.inputs();
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = inputs[i] * (float) Math.pow(10, (i % 13) - 7);
    }
    inputs[7] = 70000f;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray fp32 = data.inputBatch(manager, ROWS, DataType.FLOAT32);
      assertThat(fp32.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(fp32.getShape()).isEqualTo(new Shape(5, 6));
      float[] expected = new float[ROWS.length * 6];
      for (int i = 0; i < ROWS.length; i++) {
        System.arraycopy(inputs, ROWS[i] * 6, expected, i * 6, 6);
      }
      assertThat(fp32.toFloatArray()).containsExactly(expected);

      NDArray fp16 = data.inputBatch(manager, ROWS, DataType.FLOAT16);
      NDArray castByLibtorch = fp32.toType(DataType.FLOAT16, false);
      assertThat(fp16.getDataType()).isEqualTo(DataType.FLOAT16);
      assertThat(fp16.toByteArray()).containsExactly(castByLibtorch.toByteArray());

      NDArray targets = data.targetBatch(manager, ROWS);
      assertThat(targets.getShape()).isEqualTo(new Shape(5, 1));
      assertThat(targets.toFloatArray()[2]).isEqualTo(data.targets()[17]);
    }
  }

  @Test
  void tokenIdsAndClassesArriveAsInt64() {
    Dataset sequences = SyntheticData.sequences(20, 8, 50, 1);
    Dataset classes = SyntheticData.classification(20, new int[] {4}, 7, 1);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray ids = sequences.inputBatch(manager, ROWS, DataType.FLOAT16);
      NDArray next = sequences.targetBatch(manager, ROWS);
      NDArray labels = classes.targetBatch(manager, ROWS);
      assertThat(ids.getDataType()).isEqualTo(DataType.INT64);
      assertThat(ids.getShape()).isEqualTo(new Shape(5, 8));
      assertThat(next.getShape()).isEqualTo(new Shape(5, 8));
      assertThat(labels.getShape()).isEqualTo(new Shape(5));
      long[] idValues = ids.toLongArray();
      long[] nextValues = next.toLongArray();
      long[] labelValues = labels.toLongArray();
      for (int i = 0; i < ROWS.length; i++) {
        for (int j = 0; j < 8; j++) {
          assertThat(idValues[i * 8 + j]).isEqualTo((long) sequences.inputs()[ROWS[i] * 8 + j]);
          assertThat(nextValues[i * 8 + j]).isEqualTo((long) sequences.targets()[ROWS[i] * 8 + j]);
        }
        assertThat(labelValues[i]).isEqualTo((long) classes.targets()[ROWS[i]]);
      }
    }
  }
}
