package dev.mpj.trainer.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The reduction of {@link ChunkReducer} in SIMD lanes of the incubator Vector API (Java 17's {@code
 * jdk.incubator.vector}, on the module path only with {@code --add-modules jdk.incubator.vector}):
 * FP32 in one pass straight over the two direct buffers, no copy into arrays and back; FP16 in
 * blocks (see {@link #addHalves}). Loaded only when the module is there ({@link
 * ChunkReducer#VECTORISED}); the arrays path of {@link ChunkReducer} is the fallback.
 *
 * <p>FP16 is read as ints of two halves each (one bulk copy per buffer and block, half the element
 * count of a copy of shorts), split into the low halves and the high ones, decoded, added and
 * rounded, and joined again before the copy back: the reduction is element by element, so the order
 * the halves are worked on in does not matter. The conversions are the branch-free forms of {@link
 * Half}'s, every case computed and selected by lane masks; the results are bit for bit those of
 * {@link Half#toFloat(int)} and {@link Half#fromFloat(float)} ({@code VectorChunkReducerTest}:
 * every half, every midpoint and its neighbours, edge floats in every lane, every 251st float bit
 * pattern).
 */
final class VectorChunkReducer {

  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  /** 2^-14, the smallest normal half, as float bits (exponent 113): renormalises subnormals. */
  private static final int SUBNORMAL_BASE_BITS = 113 << 23;

  private static final float SUBNORMAL_BASE = Float.intBitsToFloat(SUBNORMAL_BASE_BITS);

  /** The half exponent field, moved to where a float's exponent sits. */
  private static final int HALF_EXPONENT_AT_FLOAT = 0x7c00 << 13;

  /** The exponent bias difference, 127 - 15, at a float's exponent. */
  private static final int REBIAS = (127 - 15) << 23;

  private static final float SUBNORMAL_MAGIC = 0.5f;
  private static final int SUBNORMAL_MAGIC_BITS = Float.floatToRawIntBits(SUBNORMAL_MAGIC);

  /** Float lanes of one vector: for {@link ChunkReducer#implementation()}. */
  static int lanes() {
    return INTS.length();
  }

  /** data[i] = (in[i] + data[i]) / divisor for {@code count} elements, as {@link ChunkReducer}. */
  void add(
      ElementType type,
      ByteBuffer data,
      int dataOffset,
      ByteBuffer in,
      int inOffset,
      int count,
      int divisor) {
    if (type == ElementType.FP32) {
      addFloats(data, dataOffset, in, inOffset, count, divisor);
    } else {
      addHalves(data, dataOffset, in, inOffset, count, divisor);
    }
  }

  private static void addFloats(
      ByteBuffer data, int dataOffset, ByteBuffer in, int inOffset, int count, int divisor) {
    int step = FLOATS.length();
    int vectorised = count - count % step;
    float d = divisor;
    int i = 0;
    if (divisor == 1) {
      for (; i < vectorised; i += step) {
        int own = dataOffset + 4 * i;
        FloatVector sum =
            FloatVector.fromByteBuffer(FLOATS, in, inOffset + 4 * i, LE)
                .add(FloatVector.fromByteBuffer(FLOATS, data, own, LE));
        sum.intoByteBuffer(data, own, LE);
      }
    } else {
      for (; i < vectorised; i += step) {
        int own = dataOffset + 4 * i;
        FloatVector sum =
            FloatVector.fromByteBuffer(FLOATS, in, inOffset + 4 * i, LE)
                .add(FloatVector.fromByteBuffer(FLOATS, data, own, LE))
                .div(d);
        sum.intoByteBuffer(data, own, LE);
      }
    }
    for (; i < count; i++) {
      int own = dataOffset + 4 * i;
      data.putFloat(own, (in.getFloat(inOffset + 4 * i) + data.getFloat(own)) / divisor);
    }
  }

  /** Ints of two halves per block: the arrays below (64 KiB) stay in the L2 cache. */
  static final int PAIRS = 2048;

  private final int[] pairs = new int[PAIRS];
  private final int[] halves = new int[2 * PAIRS];
  private final float[] sums = new float[2 * PAIRS];
  private final float[] received = new float[2 * PAIRS];

  /**
   * FP16 in blocks of {@link #PAIRS} ints of two halves: bulk copies out of the buffers, then one
   * short loop per kind of work (split the pairs, decode, add, round, join), each compiled on its
   * own with the Vector API inlined into it. One loop doing all of it, or a helper method taking
   * and returning vectors, is more than C2 inlines: it then allocates every vector as an object, 10
   * ns an element instead of under 1. The blocks keep the passes in the cache.
   */
  private void addHalves(
      ByteBuffer data, int dataOffset, ByteBuffer in, int inOffset, int count, int divisor) {
    int pairCount = count / 2;
    for (int done = 0; done < pairCount; done += PAIRS) {
      int n = Math.min(PAIRS, pairCount - done);
      int own = dataOffset + 4 * done;
      in.position(inOffset + 4 * done);
      in.asIntBuffer().get(pairs, 0, n);
      split(pairs, halves, n);
      toFloat(halves, received, 2 * n);
      data.position(own);
      data.asIntBuffer().get(pairs, 0, n);
      split(pairs, halves, n);
      toFloat(halves, sums, 2 * n);
      addFloats(received, sums, 2 * n, divisor);
      fromFloat(sums, halves, 2 * n);
      join(halves, pairs, n);
      data.position(own);
      data.asIntBuffer().put(pairs, 0, n);
    }
    for (int i = 2 * pairCount; i < count; i++) {
      int own = dataOffset + 2 * i;
      float sum = Half.toFloat(in.getShort(inOffset + 2 * i)) + Half.toFloat(data.getShort(own));
      data.putShort(own, (short) Half.fromFloat(sum / divisor));
    }
  }

  /** halves[i] = the low half of pairs[i], halves[n + i] = its high half, i below n. */
  private static void split(int[] pairs, int[] halves, int n) {
    int i = 0;
    for (int bound = INTS.loopBound(n); i < bound; i += INTS.length()) {
      IntVector both = IntVector.fromArray(INTS, pairs, i);
      both.and(0xffff).intoArray(halves, i);
      both.lanewise(VectorOperators.LSHR, 16).intoArray(halves, n + i);
    }
    for (; i < n; i++) {
      halves[i] = pairs[i] & 0xffff;
      halves[n + i] = pairs[i] >>> 16;
    }
  }

  /** pairs[i] = halves[i] in the low 16 bits, halves[n + i] in the high ones, i below n. */
  private static void join(int[] halves, int[] pairs, int n) {
    int i = 0;
    for (int bound = INTS.loopBound(n); i < bound; i += INTS.length()) {
      IntVector.fromArray(INTS, halves, i)
          .or(IntVector.fromArray(INTS, halves, n + i).lanewise(VectorOperators.LSHL, 16))
          .intoArray(pairs, i);
    }
    for (; i < n; i++) {
      pairs[i] = halves[i] | (halves[n + i] << 16);
    }
  }

  /** sums[i] = (in[i] + sums[i]) / divisor, i below n. */
  private static void addFloats(float[] in, float[] sums, int n, int divisor) {
    float d = divisor;
    int i = 0;
    int bound = FLOATS.loopBound(n);
    if (divisor == 1) {
      for (; i < bound; i += FLOATS.length()) {
        FloatVector.fromArray(FLOATS, in, i)
            .add(FloatVector.fromArray(FLOATS, sums, i))
            .intoArray(sums, i);
      }
    } else {
      for (; i < bound; i += FLOATS.length()) {
        FloatVector.fromArray(FLOATS, in, i)
            .add(FloatVector.fromArray(FLOATS, sums, i))
            .div(d)
            .intoArray(sums, i);
      }
    }
    for (; i < n; i++) {
      sums[i] = (in[i] + sums[i]) / divisor;
    }
  }

  /**
   * dst[i] = the float value of the half in the low 16 bits of halves[i] (the high bits zero), i
   * below n: exponent and mantissa shifted into a float's place and rebiased, infinities and NaNs
   * rebiased once more to the float's all-ones exponent, subnormals renormalised exactly by a
   * subtraction of 2^-14 (after F. Giesen's half_to_float_fast); then {@link Half#toFloat(int)} for
   * the last few.
   */
  static void toFloat(int[] halves, float[] dst, int n) {
    int i = 0;
    for (int bound = INTS.loopBound(n); i < bound; i += INTS.length()) {
      IntVector h = IntVector.fromArray(INTS, halves, i);
      IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
      IntVector exponent = magnitude.and(HALF_EXPONENT_AT_FLOAT);
      IntVector bits = magnitude.add(REBIAS);
      bits = bits.blend(bits.add(REBIAS), exponent.eq(HALF_EXPONENT_AT_FLOAT));
      IntVector subnormal =
          bits.add(1 << 23)
              .reinterpretAsFloats()
              .sub(SUBNORMAL_BASE)
              .reinterpretAsInts(); // m * 2^-24, exact; +0 for a zero mantissa
      bits = bits.blend(subnormal, exponent.eq(0));
      bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16))
          .reinterpretAsFloats()
          .intoArray(dst, i);
    }
    for (; i < n; i++) {
      dst[i] = Half.toFloat(halves[i]);
    }
  }

  /**
   * dst[i] = the half nearest to src[i], ties to even, in the low 16 bits, i below n: {@link
   * Half#fromFloat(float[], short[], int)} lane by lane, every case computed and selected by lane
   * masks; then {@link Half#fromFloat(float)} for the last few.
   */
  static void fromFloat(float[] src, int[] dst, int n) {
    int i = 0;
    for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
      IntVector x = FloatVector.fromArray(FLOATS, src, i).reinterpretAsInts();
      IntVector abs = x.and(0x7fffffff);
      IntVector normal =
          abs.add(((15 - 127) << 23) + 0xfff)
              .add(abs.lanewise(VectorOperators.LSHR, 13).and(1))
              .lanewise(VectorOperators.LSHR, 13);
      IntVector subnormal =
          abs.and(0x3fffffff)
              .reinterpretAsFloats()
              .add(SUBNORMAL_MAGIC)
              .reinterpretAsInts()
              .sub(SUBNORMAL_MAGIC_BITS);
      IntVector nan = abs.lanewise(VectorOperators.LSHR, 13).and(0x3ff).or(0x7e00);
      IntVector special =
          IntVector.broadcast(INTS, 0x7c00).blend(nan, abs.compare(VectorOperators.GT, 0x7f800000));
      VectorMask<Integer> belowNormal = abs.compare(VectorOperators.LT, 0x38800000);
      VectorMask<Integer> overflows = abs.compare(VectorOperators.GE, 0x477ff000);
      IntVector magnitude = normal.blend(subnormal, belowNormal).blend(special, overflows);
      x.lanewise(VectorOperators.LSHR, 16).and(0x8000).or(magnitude).intoArray(dst, i);
    }
    for (; i < n; i++) {
      dst[i] = Half.fromFloat(src[i]);
    }
  }
}
