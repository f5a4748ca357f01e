package dev.mpj.trainer.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Adds a received chunk into this rank's chunk, in blocks: both are copied out of their (direct,
 * little-endian) buffers by bulk copies into arrays reused from call to call, summed by plain array
 * loops the JIT compiles to SIMD instructions, and copied back. Per-element {@code
 * ByteBuffer.getFloat}/{@code putFloat} with their bounds and order checks cost more than the wire.
 * The arithmetic is that of the scalar definition, element by element, so results are bit-identical
 * to it.
 */
final class ChunkReducer {

  /** Elements per block: the four arrays stay in the L2 cache. */
  static final int BLOCK = 8192;

  private final float[] sums = new float[BLOCK];
  private final float[] received = new float[BLOCK];
  private final short[] ownHalves = new short[BLOCK];
  private final short[] receivedHalves = new short[BLOCK];

  /** data[i] = (in[i] + data[i]) / divisor for {@code count} elements, accumulating in FP32. */
  void add(
      ElementType type,
      ByteBuffer data,
      int dataOffset,
      ByteBuffer in,
      int inOffset,
      int count,
      int divisor) {
    ByteBuffer own = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer theirs = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = type.bytes();
    for (int done = 0; done < count; done += BLOCK) {
      int n = Math.min(BLOCK, count - done);
      own.limit(own.capacity()).position(dataOffset + done * size);
      theirs.limit(theirs.capacity()).position(inOffset + done * size);
      if (type == ElementType.FP32) {
        own.asFloatBuffer().get(sums, 0, n);
        theirs.asFloatBuffer().get(received, 0, n);
        addFloats(received, sums, n, divisor);
        own.asFloatBuffer().put(sums, 0, n);
      } else {
        own.asShortBuffer().get(ownHalves, 0, n);
        theirs.asShortBuffer().get(receivedHalves, 0, n);
        Half.toFloat(ownHalves, sums, n);
        Half.toFloat(receivedHalves, received, n);
        addFloats(received, sums, n, divisor);
        Half.fromFloat(sums, ownHalves, n);
        own.asShortBuffer().put(ownHalves, 0, n);
      }
    }
  }

  /**
   * sums[i] = (in[i] + sums[i]) / divisor: two loops without a branch inside, so each vectorises.
   */
  static void addFloats(float[] in, float[] sums, int n, int divisor) {
    if (divisor == 1) {
      for (int i = 0; i < n; i++) {
        sums[i] = in[i] + sums[i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        sums[i] = (in[i] + sums[i]) / divisor;
      }
    }
  }
}
