package dev.mpj.operator.planning;

import dev.mpj.api.DataShape;
import dev.mpj.api.DataSpec;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelParameters;
import dev.mpj.operator.planning.FleetManifests.JobDocument;
import dev.mpj.operator.sizing.JobSizing;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.PrecisionSizing;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Plans a fleet of jobs on one or more GPU models: each job sized by {@link MemorySizer} in FP32
 * and FP16 mixed precision on each target, with time and cost estimates where the target has a
 * throughput, and the totals per target. A pure function of the jobs, the targets and the
 * assumptions.
 */
public final class FleetPlanner {

  /** The fraction of a GPU's peak dense throughput the estimates assume unless told otherwise. */
  public static final double DEFAULT_UTILIZATION = 0.4;

  /**
   * What the estimates assume.
   *
   * @param utilization fraction of the peak throughput a training step achieves, in (0, 1]
   * @param pricePerGpuHour price of one GPU-hour by catalog name (upper case); absent: no cost
   */
  public record Assumptions(double utilization, Map<String, Double> pricePerGpuHour) {
    public Assumptions {
      if (!(utilization > 0 && utilization <= 1)) {
        throw new IllegalArgumentException(
            "utilization must be in (0, 1] (got " + utilization + ")");
      }
      pricePerGpuHour = Map.copyOf(pricePerGpuHour);
    }

    public static Assumptions defaults() {
      return new Assumptions(DEFAULT_UTILIZATION, Map.of());
    }

    Double price(PlanTarget target) {
      return target.gpu() != null
          ? pricePerGpuHour.get(target.gpu().name().toUpperCase(Locale.ROOT))
          : null;
    }
  }

  /**
   * A job on one target: its sizing in both precisions and the estimates where they can be made.
   */
  public record JobOnTarget(
      PlanTarget target, JobSizing sizing, Estimate fp32Estimate, Estimate fp16MixedEstimate) {}

  /**
   * One job of the fleet.
   *
   * @param flopsPerSample training FLOPs of one sample ({@link TrainingFlops})
   * @param steps optimizer steps; null when epochs over a file of unknown length set them
   */
  public record JobPlan(
      JobDocument document,
      DataShape shape,
      long parameters,
      double flopsPerSample,
      Long steps,
      List<JobOnTarget> targets) {}

  /** A valid job that cannot be sized: its data's shape is only in its file (csv, npz). */
  public record UnsizedJob(JobDocument document, List<String> missing) {}

  /**
   * The fleet on one target.
   *
   * @param gpusFp32 GPUs of the jobs that run in FP32
   * @param gpusAsWritten GPUs of the jobs that run in their own precision
   * @param gpusFp16Mixed GPUs of the jobs that run in FP16 mixed precision
   * @param gpuHoursFp32 summed over the jobs with an FP32 estimate; null when none has one
   */
  public record TargetTotals(
      PlanTarget target,
      int jobs,
      int runFp32,
      int runAsWritten,
      int runFp16Mixed,
      int gpusFp32,
      int gpusAsWritten,
      int gpusFp16Mixed,
      int gpusSavedByMixed,
      Double gpuHoursFp32,
      Double gpuHoursAsWritten,
      Double gpuHoursFp16Mixed,
      Double costFp32,
      Double costAsWritten,
      Double costFp16Mixed) {}

  /** The whole plan. */
  public record FleetPlan(
      List<PlanTarget> targets,
      Assumptions assumptions,
      List<JobPlan> jobs,
      List<UnsizedJob> unsized,
      List<TargetTotals> totals) {}

  private final MemorySizer sizer;

  public FleetPlanner(MemorySizer sizer) {
    this.sizer = sizer;
  }

  public FleetPlan plan(List<JobDocument> jobs, List<PlanTarget> targets, Assumptions assumptions) {
    List<JobPlan> plans = new ArrayList<>();
    List<UnsizedJob> unsized = new ArrayList<>();
    for (JobDocument document : jobs) {
      MixedPrecisionJobSpec spec = document.job().getSpec();
      DataShape shape = DataShape.of(spec.data);
      List<String> missing = shape.missingFor(spec.model);
      if (!missing.isEmpty()) {
        unsized.add(new UnsizedJob(document, missing));
        continue;
      }
      plans.add(planJob(document, shape, targets, assumptions));
    }
    List<TargetTotals> totals = new ArrayList<>();
    for (int t = 0; t < targets.size(); t++) {
      totals.add(totals(targets.get(t), t, plans));
    }
    return new FleetPlan(List.copyOf(targets), assumptions, plans, unsized, totals);
  }

  private JobPlan planJob(
      JobDocument document, DataShape shape, List<PlanTarget> targets, Assumptions assumptions) {
    MixedPrecisionJobSpec spec = document.job().getSpec();
    long parameters = ModelParameters.count(spec.model, shape);
    double flopsPerSample = TrainingFlops.perSample(spec.model, shape);
    Long steps = steps(spec);
    List<JobOnTarget> onTargets = new ArrayList<>();
    for (PlanTarget target : targets) {
      JobSizing sizing = sizer.size(spec, shape, target.memoryFor(spec, sizer.settings()), null);
      double flopsPerStep = flopsPerSample * spec.training.globalBatchSize;
      onTargets.add(
          new JobOnTarget(
              target,
              sizing,
              estimate(sizing.fp32(), target, false, flopsPerStep, steps, assumptions),
              estimate(sizing.fp16Mixed(), target, true, flopsPerStep, steps, assumptions)));
    }
    return new JobPlan(document, shape, parameters, flopsPerSample, steps, onTargets);
  }

  private static Estimate estimate(
      PrecisionSizing sizing,
      PlanTarget target,
      boolean mixed,
      double flopsPerStep,
      Long steps,
      Assumptions assumptions) {
    if (!sizing.runs() || target.gpu() == null || steps == null || sizing.gpus() == 0) {
      return null;
    }
    return Estimate.of(
        flopsPerStep,
        steps,
        sizing.gpus(),
        target.gpu().peakFlops(mixed),
        assumptions.utilization(),
        assumptions.price(target));
  }

  /**
   * Optimizer steps as the trainer counts them: training.steps, else epochs x the global batches of
   * the training split (the samples less the validation fraction, rounded down as the trainer holds
   * them out). Null for epochs over a csv or npz file, whose length only the file says.
   */
  static Long steps(MixedPrecisionJobSpec spec) {
    if (spec.training.steps != null) {
      return spec.training.steps.longValue();
    }
    if (spec.data.source != DataSpec.Source.SYNTHETIC || spec.training.epochs == null) {
      return null;
    }
    DataSpec.Synthetic s =
        spec.data.synthetic != null ? spec.data.synthetic : new DataSpec.Synthetic();
    long held = (long) Math.floor(s.samples * spec.data.validationFraction);
    long train = s.samples - held;
    long global = spec.training.globalBatchSize;
    return (train + global - 1) / global * spec.training.epochs;
  }

  private static TargetTotals totals(PlanTarget target, int index, List<JobPlan> plans) {
    int runFp32 = 0, runAsWritten = 0, runMixed = 0;
    int gpusFp32 = 0, gpusAsWritten = 0, gpusMixed = 0, saved = 0;
    Sum hoursFp32 = new Sum(), hoursAsWritten = new Sum(), hoursMixed = new Sum();
    Sum costFp32 = new Sum(), costAsWritten = new Sum(), costMixed = new Sum();
    for (JobPlan plan : plans) {
      JobOnTarget on = plan.targets().get(index);
      JobSizing s = on.sizing();
      boolean mixedJob = s.precision().isMixed();
      if (s.fp32().runs()) {
        runFp32++;
        gpusFp32 += s.fp32().gpus();
      }
      if (s.fp16Mixed().runs()) {
        runMixed++;
        gpusMixed += s.fp16Mixed().gpus();
      }
      if (s.job().runs()) {
        runAsWritten++;
        gpusAsWritten += s.job().gpus();
      }
      if (mixedJob && s.gpusSavedByMixed() != null) {
        saved += s.gpusSavedByMixed();
      }
      Estimate own = mixedJob ? on.fp16MixedEstimate() : on.fp32Estimate();
      hoursFp32.add(on.fp32Estimate() != null ? on.fp32Estimate().gpuHours() : null);
      hoursMixed.add(on.fp16MixedEstimate() != null ? on.fp16MixedEstimate().gpuHours() : null);
      hoursAsWritten.add(own != null ? own.gpuHours() : null);
      costFp32.add(on.fp32Estimate() != null ? on.fp32Estimate().cost() : null);
      costMixed.add(on.fp16MixedEstimate() != null ? on.fp16MixedEstimate().cost() : null);
      costAsWritten.add(own != null ? own.cost() : null);
    }
    return new TargetTotals(
        target,
        plans.size(),
        runFp32,
        runAsWritten,
        runMixed,
        gpusFp32,
        gpusAsWritten,
        gpusMixed,
        saved,
        hoursFp32.value(),
        hoursAsWritten.value(),
        hoursMixed.value(),
        costFp32.value(),
        costAsWritten.value(),
        costMixed.value());
  }

  /** A sum of the values that exist; null when none does. */
  private static final class Sum {
    private Double total;

    void add(Double value) {
      if (value != null) {
        total = total == null ? value : total + value;
      }
    }

    Double value() {
      return total;
    }
  }
}
