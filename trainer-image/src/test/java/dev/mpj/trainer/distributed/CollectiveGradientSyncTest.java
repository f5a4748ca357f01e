package dev.mpj.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mpj.trainer.amp.LossScaler;
import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gradient sync on real NDArrays; replicas are threads of this JVM joined over loopback TCP.
 */
class CollectiveGradientSyncTest {

  /**
   * What one replica holds after the sync: the overflow verdict, its arrays' values, the total
   * loss.
   */
  private record Outcome(
      boolean overflow, List<float[]> gradients, List<float[]> buffers, double loss) {}

  private interface Replica {
    Outcome run(ReplicaGroup group, NDManager manager) throws Exception;
  }

  private static List<Outcome> onReplicas(int worldSize, Replica replica) throws Exception {
    RendezvousConfig config = ReplicaProcessRuns.rendezvous(worldSize, Duration.ofSeconds(20));
    ExecutorService threads = Executors.newFixedThreadPool(worldSize);
    try {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (int rank = 0; rank < worldSize; rank++) {
        RendezvousConfig mine = config.withRank(rank);
        futures.add(
            threads.submit(
                () -> {
                  try (ReplicaGroup group = ReplicaGroup.join(mine);
                      NDManager manager = NDManager.newBaseManager()) {
                    return replica.run(group, manager);
                  }
                }));
      }
      List<Outcome> outcomes = new ArrayList<>();
      for (Future<Outcome> future : futures) {
        try {
          outcomes.add(future.get(60, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
      return outcomes;
    } finally {
      threads.shutdownNow();
    }
  }

  private static List<float[]> values(List<NDArray> arrays) {
    return arrays.stream().map(a -> a.toType(DataType.FLOAT32, false).toFloatArray()).toList();
  }

  /** Rank r's gradient of parameter p: seeded values, some of them subnormal in FP16. */
  private static float[] gradient(int rank, int parameter, int size) {
    SplittableRandom random = new SplittableRandom(31L * rank + parameter);
    float[] values = new float[size];
    for (int i = 0; i < size; i++) {
      values[i] = (float) (random.nextGaussian() * (i % 7 == 0 ? 1e-6 : 100));
    }
    return values;
  }

  @Test
  void fp16GradientsAreSummedInPlaceAndIdenticalOnEveryReplica() throws Exception {
    int[] sizes = {3, 70_001, 1_000};
    List<Outcome> outcomes =
        onReplicas(
            3,
            (group, manager) -> {
              CollectiveGradientSync sync =
                  new CollectiveGradientSync(group.bucketBytes(64 * 1024), List.of());
              List<NDArray> grads = new ArrayList<>();
              for (int p = 0; p < sizes.length; p++) {
                grads.add(
                    manager
                        .create(gradient(group.rank(), p, sizes[p]))
                        .toType(DataType.FLOAT16, false));
              }
              boolean overflow = reduceAndCheck(sync, grads, false);
              return new Outcome(
                  overflow, values(grads), List.of(), sync.totalLoss(0.25 * (group.rank() + 1)));
            });
    for (Outcome outcome : outcomes) {
      assertThat(outcome.overflow()).isFalse();
      assertThat(outcome.loss()).isEqualTo(0.25 + 0.5 + 0.75);
      for (int p = 0; p < sizes.length; p++) {
        assertThat(outcome.gradients().get(p)).isEqualTo(outcomes.get(0).gradients().get(p));
      }
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      for (int p = 0; p < sizes.length; p++) {
        float[] reduced = outcomes.get(0).gradients().get(p);
        List<float[]> halves = new ArrayList<>();
        for (int rank = 0; rank < 3; rank++) {
          halves.add(
              manager
                  .create(gradient(rank, p, sizes[p]))
                  .toType(DataType.FLOAT16, false)
                  .toType(DataType.FLOAT32, false)
                  .toFloatArray());
        }
        for (int i = 0; i < sizes[p]; i++) {
          double exact = 0;
          double magnitudes = 0;
          for (float[] half : halves) {
            exact += half[i];
            magnitudes += Math.abs(half[i]);
          }
          // Two roundings to FP16 (the partial sum on the wire, the result), each at most half an
          // FP16 ulp
          // of a partial sum, which is at most the sum of the magnitudes. FP16's ulp is 2^13 FP32
          // ulps.
          double ulp = Math.max(Math.ulp((float) magnitudes) * 8192.0, Math.scalb(1.0, -24));
          assertThat(Math.abs(reduced[i] - exact))
              .as("parameter %d element %d", p, i)
              .isLessThanOrEqualTo(ulp);
        }
      }
    }
  }

  @Test
  void aSumBeyondFp16sRangeIsAnOverflowOnEveryReplicaThoughNoneOverflowedAlone() throws Exception {
    List<Outcome> outcomes =
        onReplicas(
            2,
            (group, manager) -> {
              CollectiveGradientSync sync = new CollectiveGradientSync(group, List.of());
              NDArray grad =
                  manager.create(new float[] {40_000f, 1f}).toType(DataType.FLOAT16, false);
              return new Outcome(
                  reduceAndCheck(sync, List.of(grad), false), values(List.of(grad)), List.of(), 0);
            });
    assertThat(outcomes)
        .allSatisfy(
            o -> {
              assertThat(o.overflow()).isTrue();
              assertThat(o.gradients().get(0)[0]).isEqualTo(Float.POSITIVE_INFINITY);
              assertThat(o.gradients().get(0)[1]).isEqualTo(2f);
            });
  }

  @Test
  void oneReplicasOverflowMakesEveryReplicaSkip() throws Exception {
    List<Outcome> outcomes =
        onReplicas(
            3,
            (group, manager) -> {
              CollectiveGradientSync sync = new CollectiveGradientSync(group, List.of());
              NDArray grad = manager.create(new float[] {1f, 2f});
              return new Outcome(
                  reduceAndCheck(sync, List.of(grad), group.rank() == 2),
                  values(List.of(grad)),
                  List.of(),
                  0);
            });
    assertThat(outcomes).allSatisfy(o -> assertThat(o.overflow()).isTrue());
  }

  @Test
  void fp32GradientsAreSummedAndBatchNormBuffersAveraged() throws Exception {
    List<Outcome> outcomes =
        onReplicas(
            2,
            (group, manager) -> {
              int r = group.rank();
              NDArray runningMean = manager.create(new float[] {r, 10 * r});
              NDArray runningVar = manager.create(new float[] {1 + r});
              CollectiveGradientSync sync =
                  new CollectiveGradientSync(group, List.of(runningMean, runningVar));
              NDArray grad = manager.create(new float[] {0.5f + r, -r});
              boolean overflow = reduceAndCheck(sync, List.of(grad), false);
              return new Outcome(
                  overflow, values(List.of(grad)), values(List.of(runningMean, runningVar)), 0);
            });
    assertThat(outcomes)
        .allSatisfy(
            o -> {
              assertThat(o.overflow()).isFalse();
              assertThat(o.gradients().get(0)).containsExactly(2f, -1f);
              assertThat(o.buffers().get(0)).containsExactly(0.5f, 5f);
              assertThat(o.buffers().get(1)).containsExactly(1.5f);
            });
  }

  /**
   * The step's sequence: sum, the scaler's check of the sum (or {@code injected}, a replica's own
   * finding), the replicas' agreement.
   */
  private static boolean reduceAndCheck(
      CollectiveGradientSync sync, List<NDArray> grads, boolean injected) {
    sync.reduce(grads);
    boolean nonFinite = LossScaler.none().unscale(grads).nonFinite();
    return sync.anyOverflow(injected || nonFinite);
  }
}
