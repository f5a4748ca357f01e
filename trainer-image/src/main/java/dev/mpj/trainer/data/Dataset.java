package dev.mpj.trainer.data;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mpj.trainer.collective.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
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

  /**
   * Inputs of {@code rows} as a batch: token ids as int64, features in {@code dataType} (FP32 or
   * FP16, rounded to nearest even as libtorch casts). The batch crosses from Java to native memory
   * once: the rows are written straight into the memory of a new libtorch tensor, in its type, with
   * no Java-side batch array, no direct buffer left for the garbage collector and no cast on the
   * native side.
   */
  public NDArray inputBatch(NDManager manager, int[] rows, DataType dataType) {
    int size = sampleSize();
    long[] shape = new long[sampleShape.length + 1];
    shape[0] = rows.length;
    for (int i = 0; i < sampleShape.length; i++) {
      shape[i + 1] = sampleShape[i];
    }
    DataType type = kind == Kind.SEQUENCE ? DataType.INT64 : dataType;
    return write(manager, new Shape(shape), type, inputs, rows, size);
  }

  /**
   * Targets of {@code rows}: class or token ids as int64 ([B] or [B, S]), regression values as FP32
   * [B, 1]; written into native memory once, as {@link #inputBatch}.
   */
  public NDArray targetBatch(NDManager manager, int[] rows) {
    return switch (kind) {
      case REGRESSION ->
          write(manager, new Shape(rows.length, 1), DataType.FLOAT32, targets, rows, targetWidth);
      case CLASSIFICATION ->
          write(manager, new Shape(rows.length), DataType.INT64, targets, rows, targetWidth);
      case SEQUENCE ->
          write(
              manager,
              new Shape(rows.length, targetWidth),
              DataType.INT64,
              targets,
              rows,
              targetWidth);
    };
  }

  /**
   * A new tensor of {@code shape} and {@code type} holding {@code width} values per row of {@code
   * values} at {@code rows}, converted on the way: written into the tensor's own memory on the CPU,
   * or into a CPU tensor copied once to another device.
   */
  private static NDArray write(
      NDManager manager, Shape shape, DataType type, float[] values, int[] rows, int width) {
    boolean onCpu = manager.getDevice().equals(Device.cpu());
    NDArray batch = onCpu ? manager.create(shape, type) : manager.zeros(shape, type, Device.cpu());
    ByteBuffer memory = batch.toByteBuffer(true).order(ByteOrder.nativeOrder());
    switch (type) {
      case FLOAT32 -> {
        FloatBuffer out = memory.asFloatBuffer();
        for (int row : rows) {
          out.put(values, row * width, width);
        }
      }
      case FLOAT16 -> {
        ShortBuffer out = memory.asShortBuffer();
        for (int row : rows) {
          for (int j = row * width, end = j + width; j < end; j++) {
            out.put((short) Half.fromFloat(values[j]));
          }
        }
      }
      case INT64 -> {
        LongBuffer out = memory.asLongBuffer();
        for (int row : rows) {
          for (int j = row * width, end = j + width; j < end; j++) {
            out.put((long) values[j]);
          }
        }
      }
      default -> throw new IllegalArgumentException("no batches of " + type);
    }
    if (onCpu) {
      return batch;
    }
    NDArray onDevice = batch.toDevice(manager.getDevice(), false);
    batch.close();
    return onDevice;
  }

  @Override
  public String toString() {
    return kind + " " + samples() + " samples of " + Arrays.toString(sampleShape);
  }
}
