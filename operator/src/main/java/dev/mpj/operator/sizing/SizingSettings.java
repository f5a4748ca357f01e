package dev.mpj.operator.sizing;

/**
 * The operator's sizing knobs, set once at start-up.
 *
 * @param reserveBytes memory of each GPU that training never gets: CUDA context, cuBLAS/cuDNN
 *     workspaces
 * @param reserveFraction a further share of each GPU's memory held back for allocator fragmentation
 * @param defaultGpuMemoryBytes memory of one GPU when neither the spec nor a node label says
 */
public record SizingSettings(
    long reserveBytes, double reserveFraction, long defaultGpuMemoryBytes) {

  public static final long GIB = 1L << 30;

  public SizingSettings {
    if (reserveBytes < 0) {
      throw new IllegalArgumentException(
          "reserveBytes must not be negative (got " + reserveBytes + ")");
    }
    if (!(reserveFraction >= 0 && reserveFraction < 1)) {
      throw new IllegalArgumentException(
          "reserveFraction must be in [0, 1) (got " + reserveFraction + ")");
    }
    if (defaultGpuMemoryBytes <= 0) {
      throw new IllegalArgumentException(
          "defaultGpuMemoryBytes must be positive (got " + defaultGpuMemoryBytes + ")");
    }
  }

  /**
   * 1 GiB fixed (a CUDA context takes 0.3-0.6 GiB, the math libraries' workspaces the rest), 5% for
   * fragmentation, 16 GiB GPUs.
   */
  public static SizingSettings defaults() {
    return new SizingSettings(GIB, 0.05, 16 * GIB);
  }

  /** Bytes of a GPU of {@code gpuMemoryBytes} that are not available to training. */
  public long overheadBytes(long gpuMemoryBytes) {
    return reserveBytes + (long) Math.ceil(reserveFraction * gpuMemoryBytes);
  }
}
