package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A training loop runs one bucketed all-reduce per step: native memory must not grow with the
 * steps.
 */
class BucketReuseTest {

  private static long directBytes() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct"))
        .mapToLong(BufferPoolMXBean::getMemoryUsed)
        .sum();
  }

  @Test
  void everyStepsAllReduceUsesTheSameBuckets() throws Exception {
    int bucketBytes = 1 << 20;
    int steps = 40;
    long before = directBytes();
    LocalReplicas.run(
        LocalReplicas.config(2, Duration.ofSeconds(20)),
        group -> {
          group.bucketBytes(bucketBytes);
          List<byte[]> gradients = List.of(new byte[3 * bucketBytes / 2], new byte[bucketBytes]);
          for (int step = 0; step < steps; step++) {
            group.allReduce(gradients, ElementType.FP32, Reduction.SUM);
          }
          return null;
        });
    // Two ranks, two buckets each, plus the ring's scratch and work buffers: a few MiB, not 2 x 40
    // x 2 MiB.
    assertThat(directBytes() - before).isLessThan(16L * bucketBytes);
  }
}
