package dev.mpj.trainer.data;

import dev.mpj.api.DataSpec;
import dev.mpj.api.DataTask;
import dev.mpj.api.validation.InvalidJobException;

/**
 * Checks the values of a csv or npz file against the task the spec states. The first bad value is
 * refused as a manifest's mistake is (exit 2), named by its place in the file: a CSV line and
 * column, or an array index.
 */
final class FileValues {

  /** Where the value at a flat index of an array sits, in the words a user finds it by. */
  interface Place {
    String of(int index);
  }

  /** 2^24: above it a float no longer holds every whole number, so a label could change. */
  static final int LARGEST_EXACT_WHOLE = 1 << 24;

  private FileValues() {}

  /** Features, and labels of a regression task: every value a finite number. */
  static void requireFinite(DataSpec data, float[] values, Place place) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw refused(data, place.of(i), values[i] + " is not a finite number");
      }
    }
  }

  /** The dataset of a classification or regression file, its labels checked for the task. */
  static Dataset labelled(
      DataSpec data, DataSpec.Task task, int[] sampleShape, float[] x, float[] y, Place label) {
    if (task == DataSpec.Task.REGRESSION) {
      requireFinite(data, y, label);
      return new Dataset(Dataset.Kind.REGRESSION, sampleShape, x, y, 1, 0);
    }
    Integer stated = DataTask.statedClasses(data);
    int largest = -1;
    for (int i = 0; i < y.length; i++) {
      float v = y[i];
      if (!Float.isFinite(v) || v != Math.rint(v)) {
        throw refused(
            data,
            label.of(i),
            text(v)
                + " is not a whole number: a classification label is a class index 0, 1, 2, ...;"
                + " for real-valued targets set "
                + DataTask.field(data, "task")
                + ": regression");
      }
      if (v < 0) {
        throw refused(data, label.of(i), text(v) + " is negative: class indices start at 0");
      }
      if (stated != null && v >= stated) {
        throw refused(
            data,
            label.of(i),
            "class "
                + text(v)
                + " is beyond the "
                + stated
                + " classes of "
                + DataTask.field(data, "classes")
                + " (labels 0.."
                + (stated - 1)
                + ")");
      }
      if (v >= LARGEST_EXACT_WHOLE) {
        throw refused(
            data,
            label.of(i),
            "class "
                + text(v)
                + " is too large; class indices must be below "
                + LARGEST_EXACT_WHOLE);
      }
      largest = Math.max(largest, (int) v);
    }
    int classes = stated != null ? stated : Math.max(2, largest + 1);
    return new Dataset(Dataset.Kind.CLASSIFICATION, sampleShape, x, y, 1, classes);
  }

  /** Token ids of a sequence task: whole numbers in [0, vocabulary). */
  static void requireTokens(DataSpec data, float[] values, int vocabulary, Place place) {
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (v < 0 || v >= vocabulary) {
        throw refused(
            data,
            place.of(i),
            "token id "
                + text(v)
                + " is outside the vocabulary [0, "
                + vocabulary
                + ") of spec.model.transformer.vocabSize");
      }
    }
  }

  static InvalidJobException refused(DataSpec data, String place, String problem) {
    return new InvalidJobException(DataTask.field(data, "path"), place + ": " + problem);
  }

  /** A value as the file likely wrote it: 2 rather than 2.0, 2.5 as 2.5. */
  static String text(float v) {
    return Float.isFinite(v) && v == Math.rint(v) && Math.abs(v) < 1e15
        ? String.valueOf((long) v)
        : String.valueOf(v);
  }
}
