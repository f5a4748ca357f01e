package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Vector API conversions against {@link Half}'s scalar ones, bit for bit. The loops are long
 * enough that C2 compiles the vector code to SIMD instructions, so the compiled code is what is
 * checked, not only the Vector API's Java fallback.
 */
class VectorChunkReducerTest {

  @BeforeAll
  static void theTestJvmUsesTheVectorApi() {
    // Surefire's argLine adds jdk.incubator.vector: without it these tests would check nothing.
    assertThat(ChunkReducer.VECTORISED).as(ChunkReducer.implementation()).isTrue();
  }

  @Test
  void everyHalfDecodesToTheScalarBits() {
    int[] halves = new int[1 << 16];
    for (int bits = 0; bits < halves.length; bits++) {
      halves[bits] = bits;
    }
    float[] decoded = new float[halves.length];
    for (int repeat = 0; repeat < 20; repeat++) { // compiled by C2 after the first few
      VectorChunkReducer.toFloat(halves, decoded, halves.length);
      for (int bits = 0; bits < halves.length; bits++) {
        int expected = Float.floatToRawIntBits(Half.toFloat(bits));
        if (Float.floatToRawIntBits(decoded[bits]) != expected) {
          assertThat(Float.floatToRawIntBits(decoded[bits]))
              .as("half %04x, repeat %d", bits, repeat)
              .isEqualTo(expected);
        }
      }
    }
  }

  @Test
  void everyHalfItsMidpointsAndTheirNeighboursRoundToTheScalarBits() {
    float[] floats = new float[1 << 18];
    for (int bits = 0; bits < 1 << 16; bits++) {
      float value = Half.toFloat(bits);
      float next = Half.toFloat((bits & 0x7fff) == 0x7c00 ? bits : bits + 1);
      float middle = (float) ((value + (double) next) / 2); // ties: to even
      floats[4 * bits] = value;
      floats[4 * bits + 1] = middle;
      floats[4 * bits + 2] = Math.nextDown(middle);
      floats[4 * bits + 3] = Math.nextUp(middle);
    }
    for (int repeat = 0; repeat < 5; repeat++) {
      assertRoundsAsScalar(floats);
    }
  }

  @Test
  void edgeFloatsRoundToTheScalarBits() {
    float[] edges =
        new float[] {
          0f,
          -0f,
          0x1p-24f, // smallest subnormal half
          0x1p-25f, // tie with zero: even, zero
          Math.nextUp(0x1p-25f),
          -0x1p-26f, // rounds to -0
          3 * 0x1p-25f, // 1.5 units: tie to 2
          5 * 0x1p-25f, // 2.5 units: tie to 2
          Math.nextDown(0x1p-14f), // rounds up into the normals
          0x1p-14f - 0x1p-25f,
          Float.MIN_VALUE,
          -Float.MIN_VALUE,
          Float.MIN_NORMAL,
          65504f, // largest half
          Math.nextDown(65520f),
          65520f, // tie with infinity: infinity
          -65520f,
          1e10f,
          Float.MAX_VALUE,
          -Float.MAX_VALUE,
          Float.POSITIVE_INFINITY,
          Float.NEGATIVE_INFINITY,
          Float.NaN,
          Float.intBitsToFloat(0x7f800001), // signalling NaN
          Float.intBitsToFloat(0xffc00000), // negative quiet NaN
          Float.intBitsToFloat(0x7fffffff), // NaN, full payload
          1f + 0x1p-11f, // tie, even below
          1f + 3 * 0x1p-11f, // tie, even above
          0.1f,
        };
    // Each edge in every lane position, so that none is left to the scalar tail.
    float[] floats = new float[edges.length * 64];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = edges[(i + i / edges.length) % edges.length];
    }
    assertRoundsAsScalar(floats);
  }

  @Test
  void everyTwoHundredFiftyFirstFloatBitPatternAndRandomOnesRoundToTheScalarBits() {
    float[] floats = new float[1 << 16];
    int filled = 0;
    for (long bits = 0; bits <= 0xffffffffL; bits += 251) {
      floats[filled++] = Float.intBitsToFloat((int) bits);
      if (filled == floats.length) {
        assertRoundsAsScalar(floats);
        filled = 0;
      }
    }
    SplittableRandom random = new SplittableRandom(13);
    for (int i = 0; i < floats.length; i++) {
      floats[i] = Float.intBitsToFloat(random.nextInt());
    }
    assertRoundsAsScalar(floats);
  }

  private static void assertRoundsAsScalar(float[] floats) {
    int[] rounded = new int[floats.length];
    VectorChunkReducer.fromFloat(floats, rounded, floats.length);
    for (int i = 0; i < floats.length; i++) {
      int expected = Half.fromFloat(floats[i]);
      if (rounded[i] != expected) {
        assertThat(Integer.toHexString(rounded[i]))
            .as("float bits %08x", Float.floatToRawIntBits(floats[i]))
            .isEqualTo(Integer.toHexString(expected));
      }
    }
  }
}
