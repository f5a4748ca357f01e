package dev.mpj.operator.sizing;

import dev.mpj.api.MixedPrecisionJobSpec;

/** Decides how a job runs: replicas, micro-batch and gradient accumulation. A pure function. */
public interface Sizer {
  SizingPlan plan(MixedPrecisionJobSpec spec, ClusterCapacity capacity);
}
