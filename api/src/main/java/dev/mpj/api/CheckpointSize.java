package dev.mpj.api;

/**
 * The values of a checkpoint: the FP32 master weights and the optimizer's FP32 state, 4 bytes per
 * parameter each (BatchNorm's running statistics come beside them, a few values per channel). Rank
 * 0's trainer copies them into host memory at every checkpoint and keeps that copy (the snapshot)
 * for the next one, so the replica pod's memory must hold it beside the JVM and libtorch.
 */
public final class CheckpointSize {
  /**
   * The share of the pod's memory the trainer image gives the JVM's heap (-XX:MaxRAMPercentage=50,
   * trainer-image/src/main/docker/mpj-trainer), which is also its direct memory limit, where the
   * snapshot lives.
   */
  public static final double TRAINER_HEAP_SHARE_OF_POD = 0.5;

  private CheckpointSize() {}

  /**
   * The pod memory below which rank 0's snapshot of {@code snapshotBytes} does not fit the trainer
   * image's direct memory limit: the pod must ask for more than this.
   */
  public static long leastPodMemoryBytes(long snapshotBytes) {
    return (long) Math.ceil(snapshotBytes / TRAINER_HEAP_SHARE_OF_POD);
  }

  /**
   * FP32 values per parameter: the master weight, plus Adam's two moments, or SGD's momentum buffer
   * where momentum is above 0.
   */
  public static int valuesPerParameter(TrainingSpec.Optimizer optimizer) {
    return 1 + TrainingSpec.Optimizer.stateValuesPerParameter(optimizer);
  }

  /** Bytes of the checkpoint's values for {@code parameters} trainable parameters. */
  public static long snapshotBytes(long parameters, TrainingSpec.Optimizer optimizer) {
    return Math.multiplyExact(4L * valuesPerParameter(optimizer), parameters);
  }
}
