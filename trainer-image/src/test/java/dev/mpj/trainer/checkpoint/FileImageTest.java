package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileImageTest {
  @TempDir Path dir;

  /** Over one segment and not a whole number of blocks: a padded last segment, then truncated. */
  private static final int LENGTH = FileImage.SEGMENT_BYTES + 12_345;

  private static byte[] content() {
    byte[] bytes = new byte[LENGTH];
    new SplittableRandom(7).nextBytes(bytes);
    return bytes;
  }

  /** The content copied in in pieces that straddle the segment boundary. */
  private static FileImage image(byte[] content) {
    FileImage image = FileImage.of(content.length, null);
    int piece = 1_000_003;
    for (int from = 0; from < content.length; from += piece) {
      int n = Math.min(piece, content.length - from);
      image.put(from, ByteBuffer.wrap(content, from, n).slice());
    }
    return image;
  }

  private static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return Checksums.hex(crc);
  }

  @Test
  void theFileHasExactlyTheImagesBytesAndTheirCrc32cWithAndWithoutODirect() throws IOException {
    byte[] content = content();
    FileImage image = image(content);
    assertThat(image.get(FileImage.SEGMENT_BYTES - 5, 10))
        .isEqualTo(
            java.util.Arrays.copyOfRange(
                content, FileImage.SEGMENT_BYTES - 5, FileImage.SEGMENT_BYTES + 5));
    for (boolean tryDirect : new boolean[] {true, false}) {
      Path file = dir.resolve("file-" + tryDirect);
      FileImage.Written written = image.writeNew(file, image.checksumInBackground(), tryDirect);
      assertThat(Files.readAllBytes(file)).as("direct " + tryDirect).isEqualTo(content);
      assertThat(written.bytes()).isEqualTo(LENGTH);
      assertThat(written.crc32c()).isEqualTo(crc32c(content));
      if (!tryDirect) {
        assertThat(written.direct()).isFalse();
      }
    }
  }

  @Test
  void anImageOfTheSameLengthIsReusedAndOfAnotherIsNot() {
    FileImage image = FileImage.of(100, null);
    assertThat(FileImage.of(100, image)).isSameAs(image);
    assertThat(FileImage.of(101, image)).isNotSameAs(image);
    assertThat(FileImage.of(0, null).length()).isZero();
  }

  @Test
  void anEmptyImageWritesAnEmptyFile() throws IOException {
    Path file = dir.resolve("empty");
    FileImage.Written written = FileImage.of(0, null).writeNew(file);
    assertThat(Files.size(file)).isZero();
    assertThat(written.crc32c()).isEqualTo(crc32c(new byte[0]));
  }

  @Test
  void bytesThatDoNotFitAreRefusedAndAnExistingFileIsNotOverwritten() throws IOException {
    FileImage image = FileImage.of(10, null);
    assertThatThrownBy(() -> image.put(5, new byte[6]))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("6 bytes at 5");
    Path file = Files.writeString(dir.resolve("there"), "keep");
    assertThatThrownBy(() -> image.writeNew(file)).isInstanceOf(FileAlreadyExistsException.class);
    assertThat(Files.readString(file)).isEqualTo("keep");
  }
}
