package dev.mpj.operator.planning;

/**
 * An estimate of a job's training time on one GPU model in one precision, from its FLOPs and an
 * assumed fraction of the GPU's peak: an estimate, not a measurement.
 *
 * @param stepSeconds one optimizer step over all replicas
 * @param hours the whole job, wall clock
 * @param gpuHours the whole job, summed over its GPUs
 * @param cost gpuHours x the price of one GPU-hour; null without a price
 */
public record Estimate(double stepSeconds, double hours, double gpuHours, Double cost) {

  /**
   * @param flopsPerStep training FLOPs of one optimizer step (global batch x FLOPs per sample)
   * @param steps optimizer steps of the job
   * @param gpus GPUs of the job's split
   * @param peakFlops peak FLOP/s of one GPU in this precision
   * @param utilization the fraction of that peak assumed, in (0, 1]
   * @param pricePerGpuHour null without a price
   */
  public static Estimate of(
      double flopsPerStep,
      long steps,
      int gpus,
      double peakFlops,
      double utilization,
      Double pricePerGpuHour) {
    double stepSeconds = flopsPerStep / (gpus * peakFlops * utilization);
    double hours = steps * stepSeconds / 3600;
    double gpuHours = hours * gpus;
    return new Estimate(
        stepSeconds, hours, gpuHours, pricePerGpuHour != null ? gpuHours * pricePerGpuHour : null);
  }
}
