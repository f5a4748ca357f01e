package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.trainer.bench.CollectiveWorker;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * All-reduce, broadcast and flags with 1 to 4 replicas as threads of this JVM, over loopback TCP.
 */
class ReplicaGroupTest {

  private static final int[] ELEMENTS = {0, 1, 3, 7, 1001, 65_537};

  private static List<byte[]> inputs(ElementType type, int elements, int worldSize, long seed) {
    List<byte[]> inputs = new ArrayList<>();
    for (int rank = 0; rank < worldSize; rank++) {
      inputs.add(CollectiveWorker.sampleValues(type, elements, seed, rank));
    }
    return inputs;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4})
  void allReduceMatchesTheSequentialReferenceBitForBitOnEveryRank(int worldSize) throws Exception {
    RendezvousConfig config = LocalReplicas.config(worldSize, Duration.ofSeconds(20));
    List<List<byte[]>> results =
        LocalReplicas.run(
            config,
            group -> {
              List<byte[]> mine = new ArrayList<>();
              for (ElementType type : ElementType.values()) {
                for (Reduction reduction : Reduction.values()) {
                  for (int elements : ELEMENTS) {
                    byte[] buffer =
                        CollectiveWorker.sampleValues(type, elements, elements, group.rank());
                    group.allReduce(buffer, type, reduction);
                    mine.add(buffer);
                  }
                }
              }
              return mine;
            });

    int index = 0;
    for (ElementType type : ElementType.values()) {
      for (Reduction reduction : Reduction.values()) {
        for (int elements : ELEMENTS) {
          List<byte[]> in = inputs(type, elements, worldSize, elements);
          byte[] expected = RingReference.expected(in, type, reduction);
          for (int rank = 0; rank < worldSize; rank++) {
            assertThat(results.get(rank).get(index))
                .as("%s %s %d elements, rank %d", type, reduction, elements, rank)
                .isEqualTo(expected);
          }
          assertCloseToExact(results.get(0).get(index), in, type, reduction);
          index++;
        }
      }
    }
  }

  /**
   * Independent of the summation order: FP32 within N-1 roundings of the exact sum (relative to the
   * sum of magnitudes); FP16 within N roundings of half precision plus the smallest subnormal.
   */
  private static void assertCloseToExact(
      byte[] result, List<byte[]> in, ElementType type, Reduction reduction) {
    int n = in.size();
    double unit = type == ElementType.FP32 ? 0x1p-24 : 0x1p-11;
    double divisor = reduction == Reduction.MEAN ? n : 1;
    for (int i = 0; i < result.length / type.bytes(); i++) {
      double exact = RingReference.exact(in, type, reduction, i);
      double tolerance =
          n * unit * RingReference.absoluteSum(in, type, i) / divisor
              + (type == ElementType.FP16 ? 0x1p-24 : 0);
      assertThat((double) RingReference.value(result, type, i))
          .isCloseTo(exact, Offset.offset(tolerance));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 4})
  void bucketedAllReduceOfManyParametersEqualsOneRingPassPerBucket(int worldSize) throws Exception {
    int bucketBytes = 48_000; // several buckets; parameters straddle their edges
    RendezvousConfig config = LocalReplicas.config(worldSize, Duration.ofSeconds(20));
    List<List<byte[]>> results =
        LocalReplicas.run(
            config,
            group -> {
              List<byte[]> mine = new ArrayList<>();
              group.bucketBytes(bucketBytes);
              for (ElementType type : ElementType.values()) {
                for (boolean overlap : new boolean[] {true, false}) {
                  group.overlap(overlap);
                  byte[] gradient = CollectiveWorker.sampleValues(type, 70_001, 11, group.rank());
                  List<byte[]> parameters = CollectiveWorker.split(gradient, type, 11);
                  group.allReduce(parameters, type, Reduction.MEAN);
                  mine.add(CollectiveWorker.join(parameters, gradient.length));
                }
              }
              return mine;
            });

    int index = 0;
    for (ElementType type : ElementType.values()) {
      List<byte[]> in = inputs(type, 70_001, worldSize, 11);
      assertThat(CollectiveWorker.split(in.get(0), type, 11)).hasSizeGreaterThan(3);
      int length = in.get(0).length;
      int bucket = bucketBytes - bucketBytes % type.bytes();
      ByteBuffer expected = ByteBuffer.allocate(length);
      for (int from = 0; from < length; from += bucket) {
        expected.put(
            RingReference.expected(
                in, type, Reduction.MEAN, from, Math.min(length, from + bucket)));
      }
      if (worldSize == 1) {
        expected = ByteBuffer.wrap(in.get(0));
      }
      for (int overlap = 0; overlap < 2; overlap++, index++) {
        for (int rank = 0; rank < worldSize; rank++) {
          assertThat(results.get(rank).get(index))
              .as("%s rank %d", type, rank)
              .isEqualTo(expected.array());
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4})
  void broadcastFlagsAndGather(int worldSize) throws Exception {
    byte[] weights = CollectiveWorker.samplePayload(5); // several pipelined pieces
    RendezvousConfig config = LocalReplicas.config(worldSize, Duration.ofSeconds(20));
    List<Object[]> results =
        LocalReplicas.run(
            config,
            group -> {
              byte[] received = group.broadcast(group.rank() == 0 ? weights.clone() : null);
              byte[] empty = group.broadcast(group.rank() == 0 ? new byte[0] : null);
              byte[] small = group.broadcast(group.rank() == 0 ? new byte[] {1, 2, 3} : null);
              boolean none = group.anyTrue(false);
              boolean lastOnly = group.anyTrue(group.rank() == group.worldSize() - 1);
              long[] gathered = group.allGather(100 + group.rank());
              group.barrier();
              return new Object[] {received, empty, small, none, lastOnly, gathered};
            });
    long[] ranks = new long[worldSize];
    for (int rank = 0; rank < worldSize; rank++) {
      ranks[rank] = 100 + rank;
    }
    for (Object[] result : results) {
      assertThat((byte[]) result[0]).isEqualTo(weights);
      assertThat((byte[]) result[1]).isEmpty();
      assertThat((byte[]) result[2]).containsExactly(1, 2, 3);
      assertThat(result[3]).isEqualTo(false);
      assertThat(result[4]).isEqualTo(true);
      assertThat((long[]) result[5]).containsExactly(ranks);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void anFp16OverflowOnOneRankReachesEveryRankAsNonFinite(int worldSize) throws Exception {
    RendezvousConfig config = LocalReplicas.config(worldSize, Duration.ofSeconds(20));
    List<byte[]> results =
        LocalReplicas.run(
            config,
            group -> {
              byte[] gradient =
                  CollectiveWorker.sampleValues(ElementType.FP16, 1000, 3, group.rank());
              if (group.rank() == 1) {
                ByteBuffer.wrap(gradient)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putShort(2 * 777, (short) 0x7c00);
              }
              group.allReduce(gradient, ElementType.FP16, Reduction.MEAN);
              return gradient;
            });
    for (byte[] result : results) {
      assertThat(
              Half.isNonFinite(
                  ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN).getShort(2 * 777)))
          .isTrue();
      assertThat(result).isEqualTo(results.get(0));
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aByteBufferIsReducedBetweenItsPositionAndLimitOnly(boolean direct) throws Exception {
    int elements = 30_001;
    RendezvousConfig config = LocalReplicas.config(3, Duration.ofSeconds(20));
    List<byte[]> results =
        LocalReplicas.run(
            config,
            group -> {
              byte[] values =
                  CollectiveWorker.sampleValues(ElementType.FP16, elements, 4, group.rank());
              ByteBuffer buffer =
                  direct
                      ? ByteBuffer.allocateDirect(values.length + 16)
                      : ByteBuffer.allocate(values.length + 16);
              buffer
                  .put(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})
                  .put(values)
                  .put(new byte[] {9, 9, 9, 9, 9, 9, 9, 9});
              buffer.position(8).limit(8 + values.length);
              group.allReduce(buffer, ElementType.FP16, Reduction.MEAN);
              assertThat(buffer.position()).isEqualTo(8);
              byte[] all = new byte[values.length + 16];
              buffer.clear().get(all);
              return all;
            });
    byte[] expected =
        RingReference.expected(
            inputs(ElementType.FP16, elements, 3, 4), ElementType.FP16, Reduction.MEAN);
    for (byte[] result : results) {
      assertThat(Arrays.copyOfRange(result, 0, 8)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
      assertThat(Arrays.copyOfRange(result, 8, 8 + expected.length)).isEqualTo(expected);
      assertThat(Arrays.copyOfRange(result, 8 + expected.length, result.length)).containsOnly(9);
    }
  }

  @Test
  void floatConvenienceAveragesScalars() throws Exception {
    RendezvousConfig config = LocalReplicas.config(3, Duration.ofSeconds(20));
    List<float[]> results =
        LocalReplicas.run(
            config,
            group -> {
              float[] loss = {group.rank() + 1f, 10f * group.rank()};
              group.allReduce(loss, Reduction.MEAN);
              return loss;
            });
    for (float[] result : results) {
      assertThat(result).containsExactly(2f, 10f);
    }
  }
}
