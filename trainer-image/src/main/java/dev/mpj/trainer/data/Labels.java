package dev.mpj.trainer.data;

/**
 * Decides the task of a file's labels: whole numbers from 0 are classes, anything else is
 * regression.
 */
final class Labels {
  private Labels() {}

  static Dataset dataset(int[] sampleShape, float[] x, float[] y) {
    int max = -1;
    for (float v : y) {
      if (v < 0 || v != Math.rint(v) || v > 1_000_000) {
        return new Dataset(Dataset.Kind.REGRESSION, sampleShape, x, y, 1, 0);
      }
      max = Math.max(max, (int) v);
    }
    return new Dataset(Dataset.Kind.CLASSIFICATION, sampleShape, x, y, 1, Math.max(2, max + 1));
  }
}
