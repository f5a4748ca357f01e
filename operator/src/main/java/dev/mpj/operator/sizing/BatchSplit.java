package dev.mpj.operator.sizing;

import java.util.Optional;

/**
 * How a global batch is divided: replicas x micro-batch x gradient accumulation equals the global
 * batch exactly, so every optimizer step sees the same number of samples whatever the replica
 * count.
 */
public record BatchSplit(int replicas, int microBatch, int gradientAccumulation) {

  public int globalBatch() {
    return replicas * microBatch * gradientAccumulation;
  }

  /**
   * The split that runs the global batch with as few replicas as need no more accumulation than the
   * memory forces.
   *
   * <p>Replicas start at ceil(global / max micro-batch), the count that needs no accumulation,
   * clamped to [minReplicas, maxReplicas]. The global batch must divide evenly over the replicas,
   * so the count moves up to the next divisor of the global batch within maxReplicas (more
   * replicas, no accumulation), else down to the largest divisor at or above minReplicas (fewer
   * replicas, more accumulation). Each replica's share is then cut into the fewest micro-batches of
   * equal size, none larger than the maximum.
   *
   * @return empty when no replica count in [minReplicas, maxReplicas] divides the global batch
   */
  public static Optional<BatchSplit> choose(
      int globalBatch, int maxMicroBatch, int minReplicas, int maxReplicas) {
    if (globalBatch < 1 || maxMicroBatch < 1 || minReplicas < 1 || maxReplicas < minReplicas) {
      throw new IllegalArgumentException(
          "cannot split global batch "
              + globalBatch
              + " with micro-batch up to "
              + maxMicroBatch
              + " over "
              + minReplicas
              + ".."
              + maxReplicas
              + " replicas");
    }
    int largest = Math.min(maxMicroBatch, globalBatch);
    int start = Math.max(minReplicas, Math.min(maxReplicas, ceilDiv(globalBatch, largest)));
    int replicas = 0;
    for (int r = start; r <= Math.min(maxReplicas, globalBatch) && replicas == 0; r++) {
      if (globalBatch % r == 0) {
        replicas = r;
      }
    }
    for (int r = start - 1; r >= minReplicas && replicas == 0; r--) {
      if (globalBatch % r == 0) {
        replicas = r;
      }
    }
    if (replicas == 0) {
      return Optional.empty();
    }
    int perReplica = globalBatch / replicas;
    int accumulation = ceilDiv(perReplica, largest);
    while (perReplica % accumulation != 0) {
      accumulation++;
    }
    return Optional.of(new BatchSplit(replicas, perReplica / accumulation, accumulation));
  }

  static int ceilDiv(int a, int b) {
    return (int) (((long) a + b - 1) / b);
  }
}
