package dev.mpj.trainer.data;

import dev.mpj.api.DataSpec;
import dev.mpj.api.DataTask;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipException;

/**
 * Loads the samples a job's {@code spec.data} names, shaped for its model and checked against the
 * task the spec states ({@link DataTask}); refuses what cannot be used, naming where it is.
 */
public final class DataSource {
  private static final String NPZ_PATH = "spec.data.npz.path";

  private DataSource() {}

  public static Dataset load(MixedPrecisionJobSpec spec) {
    DataSpec data = spec.data;
    ModelSpec.Architecture architecture = spec.model.architecture;
    DataSpec.Task task = DataTask.of(data, architecture);
    return switch (data.source) {
      case SYNTHETIC -> synthetic(data, spec.model, spec.training.seed);
      case CSV -> shaped(CsvData.read(data, task), data, architecture, "spec.data.csv.path");
      case NPZ -> npz(data, task, spec.model);
    };
  }

  /**
   * What the trainer trains on, in one line: the task, and for classification where the number of
   * classes comes from.
   */
  public static String describe(DataSpec data, Dataset dataset) {
    String classes = "";
    if (dataset.kind() == Dataset.Kind.CLASSIFICATION) {
      classes =
          DataTask.statedClasses(data) != null
              ? ", " + dataset.classes() + " classes"
              : ", "
                  + dataset.classes()
                  + " classes (the largest label + 1; "
                  + DataTask.field(data, "classes")
                  + " states them)";
    }
    return dataset.kind().name().toLowerCase(Locale.ROOT)
        + classes
        + ", "
        + dataset.samples()
        + " samples of "
        + Arrays.toString(dataset.sampleShape());
  }

  private static Dataset synthetic(DataSpec data, ModelSpec model, long seed) {
    DataSpec.Synthetic s = data.synthetic != null ? data.synthetic : new DataSpec.Synthetic();
    return switch (s.task) {
      case SEQUENCE -> {
        ModelSpec.Transformer t =
            model.transformer != null ? model.transformer : new ModelSpec.Transformer();
        yield SyntheticData.sequences(s.samples, t.sequenceLength, t.vocabSize, seed);
      }
      case REGRESSION ->
          shaped(
              SyntheticData.regression(s.samples, s.features, seed),
              data,
              model.architecture,
              "spec.data.synthetic.features");
      case CLASSIFICATION ->
          SyntheticData.classification(
              s.samples,
              sampleShape(s.features, data, model.architecture, "spec.data.synthetic.features"),
              s.classes,
              seed);
    };
  }

  private static Dataset npz(DataSpec data, DataSpec.Task task, ModelSpec model) {
    Path file = Path.of(data.npz.path);
    if (!Files.isRegularFile(file)) {
      throw new InvalidJobException(NPZ_PATH, "file not found: " + file);
    }
    Map<String, Npz.NpyArray> arrays;
    List<String> names;
    try {
      names = Npz.names(file);
      arrays = Npz.read(file, List.of(data.npz.features, data.npz.labels));
    } catch (IOException e) {
      throw new InvalidJobException(
          NPZ_PATH,
          "cannot read "
              + file
              + " as .npz: "
              + e.getMessage()
              + (e instanceof ZipException ? " (is the archive complete?)" : ""));
    }
    String xName = data.npz.features;
    String yName = data.npz.labels;
    Npz.NpyArray x = arrays.get(xName);
    Npz.NpyArray y = arrays.get(yName);
    if (x == null) {
      throw new InvalidJobException(
          "spec.data.npz.features",
          "array \"" + xName + "\" is not in " + file + " (arrays: " + names + ")");
    }
    if (y == null) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          "array \"" + yName + "\" is not in " + file + " (arrays: " + names + ")");
    }
    long[] xs = x.shape();
    long[] ys = y.shape();
    if (xs.length < 2) {
      throw new InvalidJobException(
          "spec.data.npz.features",
          file
              + ": array "
              + xName
              + " has shape "
              + Arrays.toString(xs)
              + "; features need [samples, ...], at least 2-D");
    }
    if (ys.length < 1 || xs[0] != ys[0]) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          file
              + ": array "
              + yName
              + " "
              + Arrays.toString(ys)
              + " and array "
              + xName
              + " "
              + Arrays.toString(xs)
              + " must have the same number of samples (the first dimension)");
    }
    if (xs[0] == 0) {
      throw new InvalidJobException(NPZ_PATH, file + ": the arrays hold no samples");
    }
    if (task == DataSpec.Task.SEQUENCE) {
      for (String name : List.of(xName, yName)) {
        if (!arrays.get(name).integral()) {
          throw new InvalidJobException(
              NPZ_PATH,
              file
                  + ": array "
                  + name
                  + " holds floats; token ids must be an integer array"
                  + " (save it with .astype(np.int64))");
        }
      }
      if (xs.length != 2 || !Arrays.equals(xs, ys)) {
        throw new InvalidJobException(
            "spec.data.npz.labels",
            file
                + ": for task sequence, arrays "
                + xName
                + " and "
                + yName
                + " must both be [samples, length] (got "
                + Arrays.toString(xs)
                + " and "
                + Arrays.toString(ys)
                + ")");
      }
      ModelSpec.Transformer t =
          model.transformer != null ? model.transformer : new ModelSpec.Transformer();
      FileValues.requireTokens(data, x.values(), t.vocabSize, at(file, xName, xs));
      FileValues.requireTokens(data, y.values(), t.vocabSize, at(file, yName, ys));
      int length = (int) xs[1];
      return new Dataset(
          Dataset.Kind.SEQUENCE, new int[] {length}, x.values(), y.values(), length, t.vocabSize);
    }
    FileValues.requireFinite(data, x.values(), at(file, xName, xs));
    if (ys.length != 1) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          file
              + ": array "
              + yName
              + " must be one label per sample, shape [samples] (got "
              + Arrays.toString(ys)
              + ")");
    }
    int[] shape = new int[xs.length - 1];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = (int) xs[i + 1];
    }
    return shaped(
        FileValues.labelled(data, task, shape, x.values(), y.values(), at(file, yName, ys)),
        data,
        model.architecture,
        "spec.data.npz.features");
  }

  /** The place of a flat index in an array of {@code shape}, as NumPy indexes it: x[3, 1]. */
  private static FileValues.Place at(Path file, String array, long[] shape) {
    return flat -> {
      long[] index = new long[shape.length];
      long rest = flat;
      for (int d = shape.length - 1; d >= 0; d--) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      StringBuilder place = new StringBuilder(file + ": " + array + "[");
      for (int d = 0; d < index.length; d++) {
        place.append(d > 0 ? ", " : "").append(index[d]);
      }
      return place.append("]").toString();
    };
  }

  /**
   * Reshapes flat features to the image shape the cnn needs; the mlp takes any shape, flattened.
   */
  private static Dataset shaped(
      Dataset d, DataSpec data, ModelSpec.Architecture architecture, String featuresField) {
    if (architecture == ModelSpec.Architecture.TRANSFORMER) {
      throw new InvalidJobException(
          "spec.data.source",
          "the transformer trains on token sequences: use synthetic (task: sequence) or npz");
    }
    if (architecture != ModelSpec.Architecture.CNN && data.imageShape == null) {
      return d;
    }
    if (architecture == ModelSpec.Architecture.CNN
        && data.imageShape == null
        && d.sampleShape().length == 3) {
      return d;
    }
    int[] shape = sampleShape(d.sampleSize(), data, architecture, featuresField);
    return new Dataset(d.kind(), shape, d.inputs(), d.targets(), d.targetWidth(), d.classes());
  }

  private static int[] sampleShape(
      int features, DataSpec data, ModelSpec.Architecture architecture, String featuresField) {
    if (data.imageShape != null) {
      int[] shape = data.imageShape.stream().mapToInt(Integer::intValue).toArray();
      if (SyntheticData.product(shape) != features) {
        throw new InvalidJobException(
            "spec.data.imageShape",
            Arrays.toString(shape)
                + " holds "
                + SyntheticData.product(shape)
                + " values but each sample has "
                + features);
      }
      return shape;
    }
    if (architecture != ModelSpec.Architecture.CNN) {
      return new int[] {features};
    }
    int side = (int) Math.round(Math.sqrt(features));
    if (side * side != features) {
      throw new InvalidJobException(
          "spec.data.imageShape",
          "is required for the cnn: "
              + features
              + " features per sample ("
              + featuresField
              + ") are not a square image; set [channels, height, width]");
    }
    return new int[] {1, side, side};
  }
}
