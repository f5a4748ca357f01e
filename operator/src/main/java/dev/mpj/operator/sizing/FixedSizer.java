package dev.mpj.operator.sizing;

import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.SizingStatus;

/**
 * Placeholder until the memory-based sizer lands (issue 6): replicas.min replicas, the global batch
 * split evenly, no accumulation. Not a sizing model; it exists so the operator can be built first.
 */
public final class FixedSizer implements Sizer {
  @Override
  public SizingPlan plan(MixedPrecisionJobSpec spec, ClusterCapacity capacity) {
    int replicas = spec.replicas.min;
    int microBatch = Math.max(1, (spec.training.globalBatchSize + replicas - 1) / replicas);
    SizingStatus status = new SizingStatus();
    status.fits = true;
    status.plan = new SizingStatus.PrecisionPlan();
    status.plan.precision = spec.precision.value();
    status.plan.replicas = replicas;
    status.plan.microBatch = microBatch;
    status.plan.gradientAccumulation = 1;
    status.plan.gpus = replicas * spec.resources.gpusPerReplica;
    return new SizingPlan(true, replicas, microBatch, 1, status, "fixed: replicas.min replicas");
  }
}
