package dev.mpj.operator.planning;

import java.util.List;
import java.util.Locale;

/**
 * One GPU model of the catalog: its memory, the numeric formats its tensor cores run, and its peak
 * dense throughput (no structured sparsity) as the vendor's data sheet states it.
 *
 * @param name the catalog name, as {@code --gpu} takes it (e.g. A100-80GB)
 * @param memoryBytes memory of one GPU
 * @param architecture the GPU generation (Volta, Turing, Ampere, Ada Lovelace, Hopper)
 * @param tensorCoreFormats formats the tensor cores run: tf32, fp16, bf16, fp8
 * @param peakFp32Tflops peak dense FP32 throughput without tensor cores, in TFLOPS
 * @param peakFp16Tflops peak dense FP16 tensor-core throughput (FP32 accumulate where the data
 *     sheet distinguishes it), in TFLOPS; null when the GPU has no FP16 tensor cores
 * @param source where the figures come from
 */
public record GpuType(
    String name,
    long memoryBytes,
    String architecture,
    List<String> tensorCoreFormats,
    double peakFp32Tflops,
    Double peakFp16Tflops,
    String source) {

  public GpuType {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name: is required");
    }
    if (memoryBytes <= 0) {
      throw new IllegalArgumentException("memory: must be positive (GPU " + name + ")");
    }
    if (!(peakFp32Tflops > 0)) {
      throw new IllegalArgumentException("fp32Tflops: must be positive (GPU " + name + ")");
    }
    if (peakFp16Tflops != null && !(peakFp16Tflops > 0)) {
      throw new IllegalArgumentException("fp16Tflops: must be positive (GPU " + name + ")");
    }
    tensorCoreFormats =
        tensorCoreFormats == null
            ? List.of()
            : tensorCoreFormats.stream().map(f -> f.toLowerCase(Locale.ROOT)).toList();
    architecture = architecture == null ? "" : architecture;
    source = source == null ? "" : source;
  }

  /** Whether FP16 mixed precision runs on tensor cores here. */
  public boolean fastFp16() {
    return tensorCoreFormats.contains("fp16") && peakFp16Tflops != null;
  }

  /**
   * Peak dense throughput the plan's estimates assume for {@code mixed} precision or FP32, in
   * FLOP/s: FP16 mixed on tensor cores where the GPU has them, else the FP32 peak.
   */
  public double peakFlops(boolean mixed) {
    return (mixed && fastFp16() ? peakFp16Tflops : peakFp32Tflops) * 1e12;
  }
}
