/**
 * Data-parallel communication between replicas: rendezvous, broadcast, all-gather, ring all-reduce,
 * flags. Pure Java, no DJL types: buffers are raw little-endian bytes as {@code
 * NDArray.toByteArray()} and {@code toByteBuffer()} give them.
 *
 * <p>How the trainer uses it (docs/concepts/replicas.md; the code is in {@code
 * dev.mpj.trainer.distributed}): {@code ReplicaStartup} joins the group from the pod's environment
 * and broadcasts rank 0's whole state before step 1. Each replica trains on its own rows of every
 * global batch (strided: replica {@code r} of {@code R} takes rows {@code r, r+R, ...}, see {@code
 * RunConfig}). In every step {@code CollectiveGradientSync} sums the still scaled gradients across
 * the replicas, then agrees on overflow before anything is unscaled:
 *
 * <pre>{@code
 * try (ReplicaGroup group = ReplicaGroup.join(RendezvousConfig.fromEnv(System.getenv()))) {
 *   byte[] start = group.broadcast(group.rank() == 0 ? wholeState() : null);
 *   for (each step) {
 *     // forward and backward of this replica's micro-batches, loss multiplied by the loss scale
 *     try (BucketedAllReduce reduce = group.startAllReduce(fp16 ? ElementType.FP16 : ElementType.FP32, Reduction.SUM)) {
 *       for (byte[] gradient : gradients) {   // one per parameter, in parameter order
 *         reduce.add(gradient);
 *       }
 *       reduce.finish();                      // the sums are now in the arrays, identical on every rank
 *     }
 *     boolean overflow = group.anyTrue(localOverflow || !allFinite(reducedGradients));
 *     // every replica decides the same: skip and back off the scale, or unscale, clip and step
 *   }
 * } catch (CollectiveException e) {
 *   exit(TrainerContract.EXIT_REPLICAS_FAILED); // retryable: the operator restarts the gang
 * }
 * }</pre>
 *
 * <p>With one replica ({@code MPJ_WORLD_SIZE} unset or 1) every operation returns at once and no
 * socket is opened, so the same loop serves both.
 */
package dev.mpj.trainer.collective;
