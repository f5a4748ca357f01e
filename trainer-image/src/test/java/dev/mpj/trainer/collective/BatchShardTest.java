package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BatchShardTest {

  @Test
  void shardsCoverTheGlobalBatchOnceAndDifferByAtMostOneSample() {
    for (int batch = 1; batch <= 64; batch++) {
      for (int replicas = 1; replicas <= Math.min(batch, 8); replicas++) {
        int next = 0;
        double weights = 0;
        for (int rank = 0; rank < replicas; rank++) {
          BatchShard shard = BatchShard.of(batch, replicas, rank);
          assertThat(shard.from()).isEqualTo(next);
          assertThat(shard.size()).isBetween(batch / replicas, batch / replicas + 1);
          weights += shard.lossWeight(shard.size());
          next = shard.to();
        }
        assertThat(next).isEqualTo(batch);
        assertThat(weights).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
      }
    }
    assertThat(BatchShard.of(10, 3, 2)).isEqualTo(new BatchShard(6, 10, 10));
  }

  @Test
  void aGlobalBatchSmallerThanTheReplicasIsRefused() {
    assertThatThrownBy(() -> BatchShard.of(2, 3, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BatchShard.of(8, 2, 2)).isInstanceOf(IllegalArgumentException.class);
  }
}
