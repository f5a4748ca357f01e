package dev.mpj.trainer.collective;

/**
 * IEEE 754 binary16 ("half") conversions. Java 17 has no {@code Float.float16ToFloat}, so these are
 * written out: every half is exactly representable as a float, and float to half rounds to nearest,
 * ties to even, with overflow to infinity, gradual underflow to subnormals and NaN kept NaN.
 */
public final class Half {

  /** The largest finite half, 65504. */
  public static final float MAX_VALUE = 65504f;

  /** Every half's float value, indexed by its 16 bits: the hot path of FP16 reductions. */
  private static final float[] TO_FLOAT = new float[1 << 16];

  static {
    for (int bits = 0; bits < TO_FLOAT.length; bits++) {
      TO_FLOAT[bits] = decode(bits);
    }
  }

  private Half() {}

  /** The float value of the half with these bits (the low 16 bits of {@code bits} are used). */
  public static float toFloat(int bits) {
    return TO_FLOAT[bits & 0xffff];
  }

  /**
   * Adding 0.5f puts a half subnormal's unit (2^-24) at the float's last place: the FPU then
   * rounds.
   */
  private static final float SUBNORMAL_MAGIC = 0.5f;

  private static final int SUBNORMAL_MAGIC_BITS = Float.floatToRawIntBits(SUBNORMAL_MAGIC);

  /**
   * The half nearest to {@code value}, ties to even, as its 16 bits in the low half of an int.
   * Branch-free for normal halves (the rounding is an addition), after F. Giesen's
   * float_to_half_fast3_rtne: a data-dependent rounding branch costs more than the rest of an FP16
   * reduction.
   */
  public static int fromFloat(float value) {
    int x = Float.floatToRawIntBits(value);
    int sign = (x >>> 16) & 0x8000;
    int abs = x & 0x7fffffff;
    if (abs >= 0x477ff000) {
      // At least 65520, halfway between 65504 (odd mantissa) and 65536: ties to even give infinity.
      if (abs > 0x7f800000) {
        return sign
            | 0x7e00
            | ((abs >>> 13) & 0x3ff); // NaN stays NaN: quiet bit set, top of the payload kept
      }
      return sign | 0x7c00;
    }
    if (abs < 0x38800000) {
      // Below the smallest normal half (2^-14): a subnormal in units of 2^-24, or zero; may round
      // up to 2^-14.
      return sign
          | (Float.floatToRawIntBits(Float.intBitsToFloat(abs) + SUBNORMAL_MAGIC)
              - SUBNORMAL_MAGIC_BITS);
    }
    int odd = (abs >>> 13) & 1;
    // Rebias the exponent (127 to 15) and add just under half a half-ulp, plus one when the result
    // would be odd: a carry out of the mantissa rounds up, ties go to even.
    return sign | ((abs + ((15 - 127) << 23) + 0xfff + odd) >>> 13);
  }

  /** dst[i] = the float value of the half src[i], for i below {@code n}: one table load each. */
  public static void toFloat(short[] src, float[] dst, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] = TO_FLOAT[src[i] & 0xffff];
    }
  }

  /**
   * dst[i] = the half nearest to src[i], ties to even, for i below {@code n}: the same bits as
   * {@link #fromFloat(float)}, but every case is computed and the answer selected, so the loop has
   * no data-dependent branch (selects compile to conditional moves).
   */
  public static void fromFloat(float[] src, short[] dst, int n) {
    for (int i = 0; i < n; i++) {
      int x = Float.floatToRawIntBits(src[i]);
      int abs = x & 0x7fffffff;
      int normal = (abs + ((15 - 127) << 23) + 0xfff + ((abs >>> 13) & 1)) >>> 13;
      int subnormal =
          Float.floatToRawIntBits(Float.intBitsToFloat(abs & 0x3fffffff) + SUBNORMAL_MAGIC)
              - SUBNORMAL_MAGIC_BITS;
      int special = abs > 0x7f800000 ? 0x7e00 | ((abs >>> 13) & 0x3ff) : 0x7c00;
      int magnitude = abs < 0x38800000 ? subnormal : normal;
      magnitude = abs >= 0x477ff000 ? special : magnitude;
      dst[i] = (short) (((x >>> 16) & 0x8000) | magnitude);
    }
  }

  /** True when the half with these bits is infinite or NaN. */
  public static boolean isNonFinite(int bits) {
    return (bits & 0x7c00) == 0x7c00;
  }

  private static float decode(int bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f; // exact: mantissa has at most 10 bits
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
