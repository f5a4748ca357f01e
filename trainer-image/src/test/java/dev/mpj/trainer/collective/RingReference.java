package dev.mpj.trainer.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * What a ring all-reduce must produce, computed sequentially: chunk c is summed from rank c onwards
 * (the documented order), each partial sum rounded to the element type, the mean dividing once at
 * the end.
 */
final class RingReference {

  private RingReference() {}

  static float value(byte[] buffer, ElementType type, int index) {
    ByteBuffer bytes = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
    return type == ElementType.FP32
        ? bytes.getFloat(4 * index)
        : Half.toFloat(bytes.getShort(2 * index));
  }

  /**
   * The exact bytes every rank must hold after reducing {@code inputs} (one buffer per rank) in one
   * ring pass.
   */
  static byte[] expected(List<byte[]> inputs, ElementType type, Reduction reduction) {
    return expected(inputs, type, reduction, 0, inputs.get(0).length);
  }

  /** Same, for bytes [from, to) of the inputs reduced as one ring pass (one bucket). */
  static byte[] expected(
      List<byte[]> inputs, ElementType type, Reduction reduction, int from, int to) {
    int n = inputs.size();
    int size = type.bytes();
    int elements = (to - from) / size;
    ByteBuffer out = ByteBuffer.allocate(to - from).order(ByteOrder.LITTLE_ENDIAN);
    for (int chunk = 0; chunk < n; chunk++) {
      for (int i = RingAllReduce.chunkStart(elements, n, chunk);
          i < RingAllReduce.chunkStart(elements, n, chunk + 1);
          i++) {
        int element = from / size + i;
        float sum = value(inputs.get(chunk), type, element);
        for (int k = 1; k < n; k++) {
          float next = sum + value(inputs.get((chunk + k) % n), type, element);
          if (k == n - 1 && reduction == Reduction.MEAN) {
            next /= n;
          }
          sum = type == ElementType.FP16 ? Half.toFloat(Half.fromFloat(next)) : next;
        }
        if (type == ElementType.FP32) {
          out.putFloat(4 * i, sum);
        } else {
          out.putShort(2 * i, (short) Half.fromFloat(sum));
        }
      }
    }
    return out.array();
  }

  /**
   * The mathematically exact reduction in double, for a tolerance check independent of the order.
   */
  static double exact(List<byte[]> inputs, ElementType type, Reduction reduction, int element) {
    double sum = 0;
    for (byte[] input : inputs) {
      sum += value(input, type, element);
    }
    return reduction == Reduction.MEAN ? sum / inputs.size() : sum;
  }

  static double absoluteSum(List<byte[]> inputs, ElementType type, int element) {
    double sum = 0;
    for (byte[] input : inputs) {
      sum += Math.abs(value(input, type, element));
    }
    return sum;
  }
}
