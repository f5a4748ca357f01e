package dev.mpj.trainer.collective;

/**
 * The element type of a buffer, as raw little-endian bytes (what {@code NDArray.toByteArray()}
 * gives).
 */
public enum ElementType {
  /** IEEE binary32: reduced and sent as itself. */
  FP32(4),
  /** IEEE binary16: sent as FP16 on the wire, accumulated in FP32, rounded back to nearest even. */
  FP16(2);

  private final int bytes;

  ElementType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }

  /**
   * @throws IllegalArgumentException when {@code bytes} is not a whole number of these values
   */
  void checkLength(int bytes) {
    if (bytes % this.bytes != 0) {
      throw new IllegalArgumentException(
          "a buffer of " + bytes + " bytes is not a whole number of " + this + " values");
    }
  }
}
