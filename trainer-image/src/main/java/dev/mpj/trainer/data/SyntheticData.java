package dev.mpj.trainer.data;

import java.util.Random;

/**
 * Learnable tasks generated from the seed alone: the same seed gives the same samples everywhere.
 */
public final class SyntheticData {
  private SyntheticData() {}

  /**
   * Gaussian classes: each class has a centroid drawn from N(0, spread^2) per feature, and its
   * samples are the centroid plus N(0, 1) noise. The spread puts two centroids about 4 noise
   * deviations apart whatever the number of features: learnable, and overlapping enough that
   * accuracy is not 100%.
   */
  public static Dataset classification(int samples, int[] sampleShape, int classes, long seed) {
    Random random = new Random(seed * 31 + 1);
    int features = product(sampleShape);
    double spread = 4.0 / Math.sqrt(2.0 * features);
    float[][] centroids = new float[classes][features];
    for (float[] c : centroids) {
      for (int f = 0; f < features; f++) {
        c[f] = (float) (random.nextGaussian() * spread);
      }
    }
    float[] x = new float[samples * features];
    float[] y = new float[samples];
    for (int i = 0; i < samples; i++) {
      int label = random.nextInt(classes);
      y[i] = label;
      for (int f = 0; f < features; f++) {
        x[i * features + f] = (float) (centroids[label][f] + random.nextGaussian());
      }
    }
    return new Dataset(Dataset.Kind.CLASSIFICATION, sampleShape, x, y, 1, classes);
  }

  /** A noisy linear teacher: y = w.x + 0.1 noise, w ~ N(0, 1/features), x ~ N(0, 1). */
  public static Dataset regression(int samples, int features, long seed) {
    Random random = new Random(seed * 31 + 2);
    double[] w = new double[features];
    for (int f = 0; f < features; f++) {
      w[f] = random.nextGaussian() / Math.sqrt(features);
    }
    float[] x = new float[samples * features];
    float[] y = new float[samples];
    for (int i = 0; i < samples; i++) {
      double target = 0;
      for (int f = 0; f < features; f++) {
        double v = random.nextGaussian();
        x[i * features + f] = (float) v;
        target += w[f] * v;
      }
      y[i] = (float) (target + 0.1 * random.nextGaussian());
    }
    return new Dataset(Dataset.Kind.REGRESSION, new int[] {features}, x, y, 1, 0);
  }

  /**
   * Token sequences from a seeded Markov chain: after token t comes successor(t) with probability
   * 0.9, any token otherwise. A language model that learns the chain predicts 90% of next tokens.
   */
  public static Dataset sequences(int samples, int sequenceLength, int vocabulary, long seed) {
    Random random = new Random(seed * 31 + 3);
    int[] successor = DataOrder.permutation(vocabulary, random);
    float[] x = new float[samples * sequenceLength];
    float[] y = new float[samples * sequenceLength];
    for (int i = 0; i < samples; i++) {
      int token = random.nextInt(vocabulary);
      for (int s = 0; s <= sequenceLength; s++) {
        if (s < sequenceLength) {
          x[i * sequenceLength + s] = token;
        }
        if (s > 0) {
          y[i * sequenceLength + s - 1] = token;
        }
        token = random.nextDouble() < 0.9 ? successor[token] : random.nextInt(vocabulary);
      }
    }
    return new Dataset(
        Dataset.Kind.SEQUENCE, new int[] {sequenceLength}, x, y, sequenceLength, vocabulary);
  }

  static int product(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }
}
