package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class BatchSplitTest {

  @Test
  void replicasAvoidAccumulationWhenTheyMay() {
    // 60 / 10 = 6 replicas of 10, no accumulation
    assertThat(BatchSplit.choose(60, 10, 1, 8)).contains(new BatchSplit(6, 10, 1));
  }

  @Test
  void replicaCountMovesUpToADivisorOfTheGlobalBatch() {
    // ceil(64 / 10) = 7 does not divide 64; 8 does: 8 x 8 x 1
    assertThat(BatchSplit.choose(64, 10, 1, 8)).contains(new BatchSplit(8, 8, 1));
  }

  @Test
  void replicaCountMovesDownWhenNoDivisorAboveIsAllowed() {
    // ceil(64 / 10) = 7, at most 7 replicas: 4 is the largest divisor below; 16 per replica = 2 x 8
    assertThat(BatchSplit.choose(64, 10, 1, 7)).contains(new BatchSplit(4, 8, 2));
  }

  @Test
  void aGlobalBatchSmallerThanOneMicroBatchRunsWhole() {
    assertThat(BatchSplit.choose(6, 1_000, 1, 4)).contains(new BatchSplit(1, 6, 1));
    // replicas.min 2 still applies: 2 x 3
    assertThat(BatchSplit.choose(6, 1_000, 2, 4)).contains(new BatchSplit(2, 3, 1));
  }

  @Test
  void accumulationCutsAReplicasShareIntoEqualMicroBatches() {
    // 1 replica, 15 samples, micro-batch at most 10: 2 does not divide 15, 3 x 5 does
    assertThat(BatchSplit.choose(15, 10, 1, 1)).contains(new BatchSplit(1, 5, 3));
    // a prime share falls back to micro-batch 1
    assertThat(BatchSplit.choose(13, 10, 1, 1)).contains(new BatchSplit(1, 1, 13));
  }

  @Test
  void noSplitWhenNoReplicaCountInRangeDividesTheGlobalBatch() {
    assertThat(BatchSplit.choose(7, 100, 2, 4)).isEmpty();
    assertThat(BatchSplit.choose(1, 100, 2, 4)).isEmpty();
  }

  @Test
  void everySplitIsExactAndWithinItsBounds() {
    for (int global = 1; global <= 150; global++) {
      for (int max = 1; max <= 40; max += 3) {
        for (int minReplicas = 1; minReplicas <= 3; minReplicas++) {
          for (int maxReplicas = minReplicas; maxReplicas <= 9; maxReplicas += 2) {
            Optional<BatchSplit> split = BatchSplit.choose(global, max, minReplicas, maxReplicas);
            boolean someCountDivides = false;
            for (int r = minReplicas; r <= maxReplicas; r++) {
              someCountDivides |= global % r == 0;
            }
            assertThat(split.isPresent())
                .as("split of %d over %d..%d", global, minReplicas, maxReplicas)
                .isEqualTo(someCountDivides);
            if (split.isPresent()) {
              BatchSplit s = split.get();
              assertThat(s.globalBatch()).isEqualTo(global);
              assertThat(s.microBatch()).isBetween(1, max);
              assertThat(s.replicas()).isBetween(minReplicas, maxReplicas);
            }
          }
        }
      }
    }
  }
}
