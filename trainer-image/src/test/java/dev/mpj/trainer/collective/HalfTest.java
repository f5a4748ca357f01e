package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {

  /** The value of a half from its fields, in double arithmetic: independent of {@link Half}. */
  private static double referenceValue(int bits) {
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    double sign = (bits & 0x8000) != 0 ? -1 : 1;
    if (exponent == 0x1f) {
      return mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
    }
    if (exponent == 0) {
      return sign * Math.scalb((double) mantissa, -24);
    }
    return sign * Math.scalb(1024.0 + mantissa, exponent - 25);
  }

  @Test
  void everyHalfDecodesToItsValueAndRoundTrips() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      float value = Half.toFloat(bits);
      double expected = referenceValue(bits);
      if (Double.isNaN(expected)) {
        assertThat(value).as("bits %04x", bits).isNaN();
        int back = Half.fromFloat(value);
        assertThat(Half.isNonFinite(back) && (back & 0x3ff) != 0)
            .as("NaN %04x stays NaN", bits)
            .isTrue();
        assertThat(back & 0x8000).isEqualTo(bits & 0x8000);
        continue;
      }
      assertThat(Double.compare(value, expected))
          .as("bits %04x", bits)
          .isZero(); // also tells -0 from +0
      assertThat(Half.fromFloat(value)).as("round trip %04x", bits).isEqualTo(bits);
    }
  }

  @Test
  void theArrayConversionsGiveTheScalarBitsForEveryHalfAndItsRoundingNeighbours() {
    // Every half, every midpoint between neighbours and the floats either side of it, all signs.
    float[] floats = new float[1 << 18];
    short[] halves = new short[1 << 16];
    for (int bits = 0; bits < 1 << 16; bits++) {
      halves[bits] = (short) bits;
      float value = Half.toFloat(bits);
      float next = Half.toFloat((bits & 0x7fff) == 0x7c00 ? bits : bits + 1);
      float middle = (float) ((value + (double) next) / 2);
      floats[4 * bits] = value;
      floats[4 * bits + 1] = middle;
      floats[4 * bits + 2] = Math.nextDown(middle);
      floats[4 * bits + 3] = Math.nextUp(middle);
    }
    float[] decoded = new float[halves.length];
    Half.toFloat(halves, decoded, halves.length);
    for (int bits = 0; bits < 1 << 16; bits++) {
      assertThat(Float.floatToRawIntBits(decoded[bits]))
          .as("bits %04x", bits)
          .isEqualTo(Float.floatToRawIntBits(Half.toFloat(bits)));
    }
    assertArrayRoundingIsScalar(floats);
  }

  @Test
  void theArrayRoundingGivesTheScalarBitsAcrossAllFloatBitPatterns() {
    // Every 251st bit pattern (17 million: every exponent, NaN payloads, subnormals), then random.
    float[] floats = new float[1 << 16];
    int filled = 0;
    for (long bits = 0; bits <= 0xffffffffL; bits += 251) {
      floats[filled++] = Float.intBitsToFloat((int) bits);
      if (filled == floats.length) {
        assertArrayRoundingIsScalar(floats);
        filled = 0;
      }
    }
    SplittableRandom random = new SplittableRandom(11);
    for (int i = 0; i < floats.length; i++) {
      floats[i] = Float.intBitsToFloat(random.nextInt());
    }
    assertArrayRoundingIsScalar(floats);
  }

  private static void assertArrayRoundingIsScalar(float[] floats) {
    short[] rounded = new short[floats.length];
    Half.fromFloat(floats, rounded, floats.length);
    for (int i = 0; i < floats.length; i++) {
      int expected = Half.fromFloat(floats[i]);
      if ((rounded[i] & 0xffff) != expected) {
        assertThat(rounded[i] & 0xffff)
            .as("float bits %08x", Float.floatToRawIntBits(floats[i]))
            .isEqualTo(expected);
      }
    }
  }

  @Test
  void midpointsBetweenNeighboursRoundToEvenAndNeighboursOfMidpointsToNearest() {
    for (int bits = 0; bits < 0x7bff; bits++) { // every pair of adjacent finite non-negative halves
      float low = Half.toFloat(bits);
      float high = Half.toFloat(bits + 1);
      float middle = (float) ((low + (double) high) / 2); // exact: needs 12 significant bits
      int even = (bits & 1) == 0 ? bits : bits + 1;
      assertThat(Half.fromFloat(middle)).as("midpoint above %04x", bits).isEqualTo(even);
      assertThat(Half.fromFloat(Math.nextDown(middle))).isEqualTo(bits);
      assertThat(Half.fromFloat(Math.nextUp(middle))).isEqualTo(bits + 1);
      assertThat(Half.fromFloat(-middle)).isEqualTo(even | 0x8000);
    }
  }

  @Test
  void overflowUnderflowInfinityAndNaN() {
    assertThat(Half.fromFloat(65504f)).isEqualTo(0x7bff);
    assertThat(Half.fromFloat(Math.nextDown(65520f))).isEqualTo(0x7bff);
    assertThat(Half.fromFloat(65520f))
        .isEqualTo(0x7c00); // tie with an odd max rounds up to infinity
    assertThat(Half.fromFloat(1e10f)).isEqualTo(0x7c00);
    assertThat(Half.fromFloat(-1e10f)).isEqualTo(0xfc00);
    assertThat(Half.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
    assertThat(Half.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
    assertThat(Half.toFloat(0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Half.toFloat(0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(Half.isNonFinite(Half.fromFloat(Float.NaN))).isTrue();
    assertThat(Half.fromFloat(Float.NaN) & 0x3ff).isNotZero();
    assertThat(Half.isNonFinite(Half.fromFloat(Float.intBitsToFloat(0x7f800001))))
        .isTrue(); // signalling
    assertThat(Half.fromFloat(Float.intBitsToFloat(0x7f800001)) & 0x3ff).isNotZero();

    assertThat(Half.fromFloat(0x1p-24f)).isEqualTo(0x0001); // smallest subnormal
    assertThat(Half.fromFloat(0x1p-25f)).isEqualTo(0x0000); // tie with zero: even
    assertThat(Half.fromFloat(Math.nextUp(0x1p-25f))).isEqualTo(0x0001);
    assertThat(Half.fromFloat(-0x1p-26f)).isEqualTo(0x8000); // keeps the sign of zero
    assertThat(Half.fromFloat(3 * 0x1p-25f)).isEqualTo(0x0002); // 1.5 units: tie to even 2
    assertThat(Half.fromFloat(5 * 0x1p-25f)).isEqualTo(0x0002); // 2.5 units: tie to even 2
    assertThat(Half.fromFloat(Math.nextDown(0x1p-14f))).isEqualTo(0x0400); // rounds up into normals
    assertThat(Half.fromFloat(0x1p-14f - 0x1p-25f))
        .isEqualTo(0x0400); // 1023.5 units: tie to even 1024
    assertThat(Half.fromFloat(1f)).isEqualTo(0x3c00);
    assertThat(Half.fromFloat(-2f)).isEqualTo(0xc000);
    assertThat(Half.fromFloat(1f + 0x1p-11f)).isEqualTo(0x3c00); // tie, even below
    assertThat(Half.fromFloat(1f + 3 * 0x1p-11f)).isEqualTo(0x3c02); // tie, even above
    assertThat(Half.fromFloat(0.1f)).isEqualTo(0x2e66);
  }

  @Test
  void randomFloatsRoundToTheNearestHalfTiesToEven() {
    // Every finite non-negative half, then 65536 at the index of infinity's bits: the next step up.
    double[] finite = new double[0x7c01];
    for (int bits = 0; bits < 0x7c00; bits++) {
      finite[bits] = referenceValue(bits);
    }
    finite[0x7c00] = 65536;
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 500_000; i++) {
      // Bit patterns spread over all exponents, and values concentrated in the half range.
      float value =
          i % 2 == 0
              ? Float.intBitsToFloat(random.nextInt())
              : (float) (random.nextDouble(-70000, 70000) * Math.pow(2, -random.nextInt(0, 30)));
      if (Float.isNaN(value)) {
        continue;
      }
      assertThat(Half.fromFloat(value)).as("%s", value).isEqualTo(referenceRound(finite, value));
    }
  }

  private static int referenceRound(double[] finite, float value) {
    int sign = value < 0 || (value == 0 && 1 / value < 0) ? 0x8000 : 0;
    double magnitude = Math.abs((double) value);
    if (magnitude >= 65536) {
      return sign | 0x7c00;
    }
    int index = Arrays.binarySearch(finite, magnitude);
    if (index >= 0) {
      return sign | index;
    }
    int above = -index - 1;
    int below = above - 1;
    double toBelow = magnitude - finite[below];
    double toAbove = finite[above] - magnitude;
    if (toBelow < toAbove) {
      return sign | below;
    }
    if (toAbove < toBelow) {
      return sign | above;
    }
    return sign | ((below & 1) == 0 ? below : above);
  }
}
