package dev.mpj.trainer.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Samples held in Java arrays, row-major: {@code inputs} has {@code sampleSize()} values per
 * sample, {@code targets} has {@code targetWidth} per sample (a class index, a regression value, or
 * the next token of every position). Batches become NDArrays only inside the step that uses them.
 */
public record Dataset(
    Kind kind, int[] sampleShape, float[] inputs, float[] targets, int targetWidth, int classes) {

  /** What the targets are. */
  public enum Kind {
    /** One class index per sample; {@code classes} outputs. */
    CLASSIFICATION,
    /** One real value per sample. */
    REGRESSION,
    /**
     * A token sequence: inputs and targets are token ids, targets shifted by one; {@code classes} =
     * vocabulary.
     */
    SEQUENCE
  }

  public int sampleSize() {
    int n = 1;
    for (int d : sampleShape) {
      n *= d;
    }
    return n;
  }

  public int samples() {
    return targets.length / targetWidth;
  }

  public boolean hasClasses() {
    return kind != Kind.REGRESSION;
  }

  /** The samples at {@code rows}, in that order. */
  public Dataset select(int[] rows) {
    int size = sampleSize();
    float[] x = new float[rows.length * size];
    float[] y = new float[rows.length * targetWidth];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(inputs, rows[i] * size, x, i * size, size);
      System.arraycopy(targets, rows[i] * targetWidth, y, i * targetWidth, targetWidth);
    }
    return new Dataset(kind, sampleShape, x, y, targetWidth, classes);
  }

  /** Inputs of {@code rows} as a batch: token ids as int64, features in {@code dataType}. */
  public NDArray inputBatch(NDManager manager, int[] rows, DataType dataType) {
    int size = sampleSize();
    long[] shape = new long[sampleShape.length + 1];
    shape[0] = rows.length;
    for (int i = 0; i < sampleShape.length; i++) {
      shape[i + 1] = sampleShape[i];
    }
    if (kind == Kind.SEQUENCE) {
      long[] tokens = new long[rows.length * size];
      for (int i = 0; i < rows.length; i++) {
        for (int j = 0; j < size; j++) {
          tokens[i * size + j] = (long) inputs[rows[i] * size + j];
        }
      }
      return manager.create(tokens, new Shape(shape));
    }
    float[] x = new float[rows.length * size];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(inputs, rows[i] * size, x, i * size, size);
    }
    NDArray batch = manager.create(x, new Shape(shape));
    return dataType == DataType.FLOAT32 ? batch : batch.toType(dataType, false);
  }

  /**
   * Targets of {@code rows}: class or token ids as int64 ([B] or [B, S]), regression values as FP32
   * [B, 1].
   */
  public NDArray targetBatch(NDManager manager, int[] rows) {
    float[] y = new float[rows.length * targetWidth];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(targets, rows[i] * targetWidth, y, i * targetWidth, targetWidth);
    }
    return switch (kind) {
      case REGRESSION -> manager.create(y, new Shape(rows.length, 1));
      case CLASSIFICATION -> manager.create(toLongs(y), new Shape(rows.length));
      case SEQUENCE -> manager.create(toLongs(y), new Shape(rows.length, targetWidth));
    };
  }

  private static long[] toLongs(float[] values) {
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (long) values[i];
    }
    return out;
  }

  @Override
  public String toString() {
    return kind + " " + samples() + " samples of " + Arrays.toString(sampleShape);
  }
}
