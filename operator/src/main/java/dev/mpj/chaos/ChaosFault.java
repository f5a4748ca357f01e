package dev.mpj.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One run's fault: SIGKILL of replica {@code rank} once it reaches {@code step}, in a job of {@code
 * precision}. Drawn from a seed: the same seed, the same faults.
 */
public record ChaosFault(int run, String precision, int rank, long step) {

  /**
   * {@code runs} faults: precisions in turn, a random rank of {@code replicas}, a random step from
   * 5 to {@code steps - interval / 2} (late enough that a step ran, early enough that the replica
   * is still training when its metrics show it).
   */
  public static List<ChaosFault> draw(
      long seed, int runs, List<String> precisions, int replicas, long steps, long interval) {
    Random random = new Random(seed);
    long last = Math.max(6, steps - interval);
    List<ChaosFault> faults = new ArrayList<>(runs);
    for (int run = 1; run <= runs; run++) {
      String precision = precisions.get((run - 1) % precisions.size());
      int rank = random.nextInt(replicas);
      long step = 5 + (long) (random.nextDouble() * (last - 5));
      faults.add(new ChaosFault(run, precision, rank, step));
    }
    return faults;
  }

  /** As {@code mpj local --fail} takes it. */
  public String failFlag() {
    return rank + "@" + step;
  }
}
