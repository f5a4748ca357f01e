package dev.mpj.trainer.data;

import java.util.Random;

/**
 * The order in which training samples are visited: a fresh permutation each epoch, drawn from a
 * generator seeded by (seed, epoch) alone. The position (epoch, index) is plain state, so a
 * checkpoint can save it and a resumed run can continue exactly where it stopped.
 */
public final class DataOrder {
  private final int samples;
  private final long seed;
  private int epoch;
  private int index;
  private int[] permutation;

  public DataOrder(int samples, long seed) {
    this(samples, seed, 0, 0);
  }

  public DataOrder(int samples, long seed, int epoch, int index) {
    this.samples = samples;
    this.seed = seed;
    this.epoch = epoch;
    this.index = index;
    this.permutation = permutation(samples, epochRandom(seed, epoch));
  }

  /**
   * The next {@code size} sample indices, continuing into the next epoch when this one runs out.
   */
  public int[] next(int size) {
    int[] rows = new int[size];
    for (int i = 0; i < size; i++) {
      if (index == samples) {
        epoch++;
        index = 0;
        permutation = permutation(samples, epochRandom(seed, epoch));
      }
      rows[i] = permutation[index++];
    }
    return rows;
  }

  public int epoch() {
    return epoch;
  }

  public int index() {
    return index;
  }

  static Random epochRandom(long seed, int epoch) {
    return new Random(seed * 0x9E3779B97F4A7C15L + epoch);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  static int[] permutation(int n, Random random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
