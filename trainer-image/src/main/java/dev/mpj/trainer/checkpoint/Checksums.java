package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The checksums state.json records for a checkpoint's files, in hex: SHA-256 in format 1, CRC32C
 * (hardware-accelerated, several GB/s: cheaper than the disk) from format 2 on.
 */
final class Checksums {
  private Checksums() {}

  /** The checksum of checkpoint files in state.json {@code format}: its name in messages. */
  static String algorithm(int format) {
    return switch (format) {
      case 1 -> "SHA-256";
      case 2 -> "CRC32C";
      default ->
          throw new IllegalArgumentException(
              "checkpoint format " + format + " is not one this trainer reads (1 or 2)");
    };
  }

  /** The checksum of {@code bytes} as state.json {@code format} records it. */
  static String of(int format, byte[] bytes) {
    return algorithm(format).equals("SHA-256") ? sha256(bytes) : crc32c(bytes);
  }

  static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return hex(crc);
  }

  static String hex(CRC32C crc) {
    return String.format("%08x", crc.getValue());
  }

  static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newDigest().digest(bytes));
  }

  static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    byte[] buffer = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
