package dev.mpj.operator.sizing;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.Precision;
import dev.mpj.api.ReplicasSpec;
import dev.mpj.api.SizingStatus;
import dev.mpj.api.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Sizes a job from the memory each precision needs (docs/concepts/sizing.md): the largest
 * micro-batch that fits one GPU, then replicas within replicas.min/max and the free GPUs, then
 * gradient accumulation for the rest. A pure function of the spec, the observed capacity and the
 * operator's settings.
 */
public final class MemorySizer implements Sizer {

  private final SizingSettings settings;

  public MemorySizer(SizingSettings settings) {
    this.settings = settings;
  }

  public SizingSettings settings() {
    return settings;
  }

  @Override
  public SizingPlan plan(MixedPrecisionJobSpec spec, ClusterCapacity capacity) {
    GpuMemory gpu = GpuMemory.resolve(spec, capacity, settings);
    DataShape shape = DataShape.of(spec.data);
    List<String> missing = shape.missingFor(spec.model);
    if (!missing.isEmpty()) {
      return notSized(spec, gpu, capacity.freeGpus(), missing);
    }
    return size(spec, shape, gpu, capacity.freeGpus()).toSizingPlan();
  }

  /**
   * Both precisions' plans.
   *
   * @param shape the data's shape, complete for the model ({@link DataShape#missingFor} empty)
   * @param freeGpus GPUs free on matching nodes; null to plan without counting them
   */
  public JobSizing size(
      MixedPrecisionJobSpec spec, DataShape shape, GpuMemory gpu, Integer freeGpus) {
    long parameters = ModelParameters.count(spec.model, shape);
    long grouped = ModelParameters.groupedElements(spec.model, shape);
    MemoryModel.Activations activations = MemoryModel.activations(spec.model, shape);
    Limits limits = Limits.of(spec, freeGpus);
    TrainingSpec.Optimizer optimizer = spec.training.optimizer;
    PrecisionSizing fp32 =
        sizePrecision(Precision.FP32, parameters, grouped, optimizer, activations, gpu, limits);
    PrecisionSizing mixed =
        sizePrecision(
            Precision.FP16_MIXED, parameters, grouped, optimizer, activations, gpu, limits);
    PrecisionSizing job = spec.precision.isMixed() ? mixed : fp32;
    int microBatch = job.split() != null ? job.split().microBatch() : 1;
    long saved =
        MemoryModel.perReplica(
                    parameters, grouped, optimizer, activations, Precision.FP32, microBatch, 0)
                .training()
            - MemoryModel.perReplica(
                    parameters,
                    grouped,
                    optimizer,
                    activations,
                    Precision.FP16_MIXED,
                    microBatch,
                    0)
                .training();
    return new JobSizing(parameters, gpu, freeGpus, spec.precision, fp32, mixed, saved);
  }

  private PrecisionSizing sizePrecision(
      Precision precision,
      long parameters,
      long grouped,
      TrainingSpec.Optimizer optimizer,
      MemoryModel.Activations activations,
      GpuMemory gpu,
      Limits limits) {
    long overhead = settings.overheadBytes(gpu.bytes());
    long perSample = activations.perSample(precision);
    MemoryBreakdown atOne =
        MemoryModel.perReplica(parameters, grouped, optimizer, activations, precision, 1, overhead);
    // Activations and update temporaries are not resident together (MemoryBreakdown.training):
    // the micro-batch is bounded by what the model state leaves, as long as the temporaries fit.
    long available = gpu.bytes() - overhead - atOne.modelState();
    // Beside the samples' activations backward holds one weight gradient per micro-batch.
    long forSamples = available - activations.weightGradient().bytes(precision);
    int maxMicroBatch =
        forSamples >= perSample && available >= atOne.updateTemporaries()
            ? (int) Math.min(forSamples / perSample, Integer.MAX_VALUE)
            : 0;
    if (maxMicroBatch == 0) {
      String message =
          String.format(
              Locale.ROOT,
              "%s needs %s per replica at micro-batch 1 (model state %s of %,d parameters, the larger of update"
                  + " temporaries %s and activations %s, reserve %s) but a GPU has %s (%s): %s short",
              precision,
              Bytes.format(atOne.total()),
              Bytes.format(atOne.modelState()),
              parameters,
              Bytes.format(atOne.updateTemporaries()),
              Bytes.format(atOne.activations()),
              Bytes.format(overhead),
              Bytes.format(gpu.bytes()),
              gpu.source(),
              Bytes.format(atOne.total() - gpu.bytes()));
      return new PrecisionSizing(
          precision,
          PrecisionSizing.Outcome.DOES_NOT_FIT,
          perSample,
          0,
          null,
          limits.gpusPerReplica,
          atOne,
          message);
    }
    Decision decision = decide(limits, maxMicroBatch);
    BatchSplit split = decision.split.orElse(null);
    int microBatch = split != null ? split.microBatch() : 1;
    MemoryBreakdown bytes =
        MemoryModel.perReplica(
            parameters, grouped, optimizer, activations, precision, microBatch, overhead);
    String message =
        decision.outcome == PrecisionSizing.Outcome.RUNS
            ? decision.message
                + String.format(
                    Locale.ROOT,
                    "; up to %d samples fit one %s GPU",
                    maxMicroBatch,
                    Bytes.format(gpu.bytes()))
            : decision.message;
    return new PrecisionSizing(
        precision,
        decision.outcome,
        perSample,
        maxMicroBatch,
        split,
        limits.gpusPerReplica,
        bytes,
        message);
  }

  /**
   * Replicas and split within the job's bounds and the free GPUs, for micro-batches up to {@code
   * maxMicroBatch}.
   */
  private static Decision decide(Limits limits, int maxMicroBatch) {
    int global = limits.globalBatch;
    Integer freeReplicas =
        limits.freeGpus != null && limits.gpusPerReplica > 0
            ? limits.freeGpus / limits.gpusPerReplica
            : null;
    if (freeReplicas != null && freeReplicas < limits.minReplicas) {
      return new Decision(
          PrecisionSizing.Outcome.WAITING_FOR_GPUS,
          BatchSplit.choose(global, maxMicroBatch, limits.minReplicas, limits.minReplicas),
          String.format(
              Locale.ROOT,
              "waiting for %d GPUs (replicas.min %d x %d per replica), %d free",
              limits.minReplicas * limits.gpusPerReplica,
              limits.minReplicas,
              limits.gpusPerReplica,
              limits.freeGpus));
    }
    int maxReplicas =
        freeReplicas != null ? Math.min(limits.maxReplicas, freeReplicas) : limits.maxReplicas;
    Optional<BatchSplit> split =
        BatchSplit.choose(global, maxMicroBatch, limits.minReplicas, maxReplicas);
    if (split.isEmpty()) {
      return new Decision(
          PrecisionSizing.Outcome.BATCH_NOT_SPLITTABLE,
          split,
          String.format(
              Locale.ROOT,
              "global batch %d cannot be divided evenly over %d to %d replicas; choose a global batch that one of"
                  + " those replica counts divides",
              global,
              limits.minReplicas,
              maxReplicas));
    }
    BatchSplit s = split.get();
    int ideal = BatchSplit.ceilDiv(global, Math.min(maxMicroBatch, global));
    List<String> why = new ArrayList<>();
    if (s.replicas() < ideal && ideal > limits.maxReplicas) {
      why.add("replicas.max " + limits.maxReplicas + " reached");
    }
    if (s.replicas() < ideal
        && freeReplicas != null
        && freeReplicas < Math.min(ideal, limits.maxReplicas)) {
      why.add("only " + limits.freeGpus + " GPUs free");
    }
    if (s.replicas() > ideal && ideal < limits.minReplicas) {
      why.add("replicas.min is " + limits.minReplicas);
    }
    if (why.isEmpty() && s.replicas() != ideal) {
      why.add(s.replicas() + " replicas divide the global batch evenly, " + ideal + " do not");
    }
    String message =
        String.format(
            Locale.ROOT,
            "%d %s x micro-batch %d x accumulation %d = global batch %d%s",
            s.replicas(),
            s.replicas() == 1 ? "replica" : "replicas",
            s.microBatch(),
            s.gradientAccumulation(),
            global,
            why.isEmpty() ? "" : " (" + String.join("; ", why) + ")");
    return new Decision(PrecisionSizing.Outcome.RUNS, split, message);
  }

  /** The data's shape is not in the spec (csv, npz): replicas.min replicas, not sized by memory. */
  private SizingPlan notSized(
      MixedPrecisionJobSpec spec, GpuMemory gpu, Integer freeGpus, List<String> missing) {
    Limits limits = Limits.of(spec, freeGpus);
    Decision decision = decide(limits, limits.globalBatch);
    BatchSplit split = decision.split.orElse(null);
    SizingStatus status = new SizingStatus();
    status.gpuMemoryBytes = gpu.bytes();
    status.gpuMemorySource = gpu.source();
    boolean runs = decision.outcome == PrecisionSizing.Outcome.RUNS;
    status.reason = runs ? "NotSized" : decision.outcome.reason();
    status.message =
        runs
            ? "not sized by memory: the "
                + spec.model.architecture.name().toLowerCase()
                + " needs the data's "
                + String.join(" and ", missing)
                + ", which the spec does not give; "
                + decision.message
            : decision.message;
    if (split != null) {
      status.plan = PrecisionSizing.toStatus(spec.precision, split, limits.gpusPerReplica);
    }
    return SizingPlan.of(runs, split, status, status.message);
  }

  private record Decision(
      PrecisionSizing.Outcome outcome, Optional<BatchSplit> split, String message) {}

  private record Limits(
      int globalBatch, int minReplicas, int maxReplicas, int gpusPerReplica, Integer freeGpus) {
    static Limits of(MixedPrecisionJobSpec spec, Integer freeGpus) {
      ReplicasSpec replicas = spec.replicas != null ? spec.replicas : new ReplicasSpec();
      int gpusPerReplica = spec.resources != null ? spec.resources.gpusPerReplica : 1;
      return new Limits(
          spec.training.globalBatchSize, replicas.min, replicas.max, gpusPerReplica, freeGpus);
    }
  }
}
