package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChunkReducerTest {

  /** The definition, one element at a time through the buffers, with the scalar conversions. */
  private static void scalarAdd(
      ElementType type,
      ByteBuffer data,
      int dataOffset,
      ByteBuffer in,
      int inOffset,
      int count,
      int divisor) {
    for (int i = 0; i < count; i++) {
      if (type == ElementType.FP32) {
        int at = dataOffset + 4 * i;
        data.putFloat(at, (in.getFloat(inOffset + 4 * i) + data.getFloat(at)) / divisor);
      } else {
        int at = dataOffset + 2 * i;
        float sum = Half.toFloat(in.getShort(inOffset + 2 * i)) + Half.toFloat(data.getShort(at));
        data.putShort(at, (short) Half.fromFloat(sum / divisor));
      }
    }
  }

  private static ByteBuffer randomValues(ElementType type, int bytes, SplittableRandom random) {
    ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int at = 0; at + type.bytes() <= bytes; at += type.bytes()) {
      // Gradients' range, plus some overflowing, tiny and non-finite values.
      float value =
          switch (random.nextInt(20)) {
            case 0 -> Float.NaN;
            case 1 -> Float.POSITIVE_INFINITY;
            case 2 -> (float) random.nextDouble(-1e6, 1e6);
            case 3 -> (float) random.nextDouble(-1e-6, 1e-6);
            default -> (float) random.nextGaussian() * 0.01f;
          };
      if (type == ElementType.FP32) {
        b.putFloat(at, value);
      } else {
        b.putShort(at, (short) Half.fromFloat(value));
      }
    }
    return b;
  }

  @ParameterizedTest
  @CsvSource({
    "FP32, 1, 100000, false",
    "FP32, 4, 100000, false",
    "FP16, 1, 100000, false",
    "FP16, 3, 100000, false",
    "FP16, 1, 5, false",
    "FP32, 2, 8192, false",
    "FP32, 1, 100000, true",
    "FP32, 4, 100001, true",
    "FP16, 1, 100000, true",
    "FP16, 3, 100003, true",
    "FP16, 2, 31, true",
    "FP16, 1, 5, true",
    "FP32, 2, 8192, true"
  })
  void reducesExactlyAsTheElementByElementDefinition(
      ElementType type, int divisor, int count, boolean vectorised) {
    assertThat(!vectorised || ChunkReducer.VECTORISED).as(ChunkReducer.implementation()).isTrue();
    SplittableRandom random = new SplittableRandom(count + divisor);
    int dataOffset = 3 * type.bytes(); // chunks start anywhere in the bucket
    int inOffset = type.bytes();
    int bytes = (count + 8) * type.bytes();
    ByteBuffer data = randomValues(type, bytes, random);
    ByteBuffer in = randomValues(type, bytes, random);
    ByteBuffer expected = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    expected.put(data.duplicate().clear()).clear();
    scalarAdd(type, expected, dataOffset, in, inOffset, count, divisor);

    new ChunkReducer(vectorised).add(type, data, dataOffset, in, inOffset, count, divisor);

    for (int at = 0; at < bytes; at++) {
      if (data.get(at) != expected.get(at)) {
        assertThat(data.get(at)).as("byte %d of %d", at, bytes).isEqualTo(expected.get(at));
      }
    }
  }
}
