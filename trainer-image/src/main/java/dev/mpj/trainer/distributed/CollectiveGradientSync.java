package dev.mpj.trainer.distributed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.mpj.trainer.collective.BucketedAllReduce;
import dev.mpj.trainer.collective.ElementType;
import dev.mpj.trainer.collective.Reduction;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.loop.GradientSync;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The replicas' meeting point in every step: one bucketed ring all-reduce (SUM) of all gradients,
 * in the working precision (FP16 on the wire in fp16-mixed, FP32 in fp32; the additions in FP32),
 * written back into the gradient arrays, so every replica holds the same bytes; then, after the
 * loss scaler has checked them, one agreement on overflow.
 *
 * <p>Overflow: the scaler checks the summed gradients, as GradScaler checks what DDP's all-reduce
 * left. An inf or NaN in any replica's share stays inf or NaN in the sum (inf plus finite is inf,
 * inf minus inf is NaN), and the sum of scaled FP16 gradients can itself exceed FP16's range
 * (65504) even when no replica's share does; either way every replica finds it in the same reduced
 * bytes, and all skip the step and back off the scale together. {@link ReplicaGroup#anyTrue}
 * combines the flags all the same, so that the replicas agree even if one's check went differently.
 * Everything after this point (unscaling, the clipping norm, the optimizer step) works on identical
 * bytes, so it gives identical results on every replica.
 *
 * <p>BatchNorm running statistics (which each replica updates from its own shard in forward) are
 * averaged after every step, in FP32, so that evaluation and checkpoints see one model on every
 * replica. Their update is linear in the batch mean, so with equal shards and one micro-batch the
 * mean of the replicas' running means is the running mean over the whole global batch (the running
 * variance misses the spread between the shards' means). PyTorch's DDP instead copies rank 0's
 * buffers, which come from rank 0's shard alone.
 */
public final class CollectiveGradientSync implements GradientSync {
  private static final NDIndex ALL = new NDIndex("...");
  private final ReplicaGroup group;
  private final List<NDArray> buffers;

  /**
   * @param buffers arrays averaged after every step, in FP32: the model's BatchNorm running
   *     statistics ({@code MasterWeights.buffers()}), updated in place by forward
   */
  public CollectiveGradientSync(ReplicaGroup group, List<NDArray> buffers) {
    this.group = group;
    this.buffers = List.copyOf(buffers);
  }

  @Override
  public void reduce(List<NDArray> gradients) {
    ElementType type =
        gradients.get(0).getDataType() == DataType.FLOAT16 ? ElementType.FP16 : ElementType.FP32;
    reduceInPlace(gradients, type, Reduction.SUM);
    if (!buffers.isEmpty()) {
      reduceInPlace(buffers, ElementType.FP32, Reduction.MEAN);
    }
  }

  @Override
  public boolean anyOverflow(boolean localOverflow) {
    return group.anyTrue(localOverflow);
  }

  @Override
  public double totalLoss(double localLoss) {
    double total = 0;
    for (long bits : group.allGather(Double.doubleToLongBits(localLoss))) {
      total += Double.longBitsToDouble(bits); // in rank order: the same double on every replica
    }
    return total;
  }

  /**
   * On the CPU {@code toByteBuffer(true)} of a dense contiguous array (as parameters and their
   * gradients are) is the array's own memory, so the ring reduces in place without a copy. On
   * another device it is a copy in host memory, and the result is copied back. (Not {@code
   * set(Buffer)}: with a direct buffer it makes the array use the buffer's memory.)
   */
  private void reduceInPlace(List<NDArray> arrays, ElementType type, Reduction reduction) {
    List<ByteBuffer> views = new ArrayList<>(arrays.size());
    try (BucketedAllReduce allReduce = group.startAllReduce(type, reduction)) {
      for (NDArray array : arrays) {
        ByteBuffer view = array.toByteBuffer(true);
        views.add(view);
        allReduce.add(view);
      }
      allReduce.finish();
    }
    for (int i = 0; i < arrays.size(); i++) {
      NDArray array = arrays.get(i);
      if (!Device.cpu().equals(array.getDevice())) {
        try (NDArray reduced =
            array.getManager().create(views.get(i), array.getShape(), array.getDataType())) {
          array.set(ALL, reduced);
        }
      }
    }
  }
}
