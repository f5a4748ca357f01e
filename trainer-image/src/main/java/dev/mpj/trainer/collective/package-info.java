/**
 * Data-parallel communication between replicas: rendezvous, broadcast, ring all-reduce, flags. Pure
 * Java, no DJL types: buffers are raw little-endian bytes as {@code NDArray.toByteArray()} and
 * {@code toByteBuffer()} give them.
 *
 * <p>How a training loop uses it (see docs/concepts/replicas.md):
 *
 * <pre>{@code
 * try (ReplicaGroup group = ReplicaGroup.join(RendezvousConfig.fromEnv(System.getenv()))) {
 *   byte[] start = group.broadcast(group.rank() == 0 ? masterWeightsAndState() : null);
 *   BatchShard shard = BatchShard.of(globalBatchSize, group.worldSize(), group.rank());
 *   for (each step) {
 *     // micro-batches of this shard: loss = meanLoss * shard.lossWeight(n) * lossScale; backward
 *     try (BucketedAllReduce reduce = group.startAllReduce(fp16 ? ElementType.FP16 : ElementType.FP32, Reduction.SUM)) {
 *       for (byte[] gradient : gradients) {   // one per parameter, in parameter order
 *         reduce.add(gradient);
 *       }
 *       reduce.finish();                      // the sums are now in the arrays, identical on every rank
 *     }
 *     boolean overflow = group.anyTrue(nonFiniteAfterUnscaling);
 *     // skip or step; every replica decides the same
 *   }
 * } catch (CollectiveException e) {
 *   exit(TrainerContract.EXIT_REPLICAS_FAILED);      // retryable: the operator restarts the gang
 * }
 * }</pre>
 *
 * <p>With one replica ({@code MPJ_WORLD_SIZE} unset or 1) every operation returns at once and no
 * socket is opened, so the same loop serves both.
 */
package dev.mpj.trainer.collective;
