package dev.mpj.trainer.collective;

/**
 * The part of each global batch one replica trains on: positions {@code [from, to)} of the global
 * batch, contiguous, balanced to within one sample when the global batch does not divide evenly.
 *
 * <p>For the reduced gradient to be the mean over the global batch whatever the split, a replica
 * weighs the mean loss of each micro-batch of {@code n} samples by {@code n / globalBatchSize} and
 * the replicas' gradients are summed ({@link Reduction#SUM}): the same weights a single process
 * uses when it accumulates every micro-batch of the global batch itself.
 */
public record BatchShard(int from, int to, int globalBatchSize) {

  /** Replica {@code rank}'s shard of a global batch split over {@code replicas}. */
  public static BatchShard of(int globalBatchSize, int replicas, int rank) {
    if (replicas < 1 || rank < 0 || rank >= replicas) {
      throw new IllegalArgumentException("rank " + rank + " of " + replicas + " replicas");
    }
    if (globalBatchSize < replicas) {
      throw new IllegalArgumentException(
          "a global batch of " + globalBatchSize + " cannot feed " + replicas + " replicas");
    }
    return new BatchShard(
        RingAllReduce.chunkStart(globalBatchSize, replicas, rank),
        RingAllReduce.chunkStart(globalBatchSize, replicas, rank + 1),
        globalBatchSize);
  }

  public int size() {
    return to - from;
  }

  /** The factor for the mean loss of a micro-batch of {@code samples} samples of this shard. */
  public float lossWeight(int samples) {
    return (float) samples / globalBatchSize;
  }
}
