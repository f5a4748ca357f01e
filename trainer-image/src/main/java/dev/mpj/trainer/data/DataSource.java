package dev.mpj.trainer.data;

import dev.mpj.api.DataSpec;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Loads the samples a job's {@code spec.data} names, shaped for its model; refuses what cannot be
 * used.
 */
public final class DataSource {
  private DataSource() {}

  public static Dataset load(MixedPrecisionJobSpec spec) {
    DataSpec data = spec.data;
    ModelSpec.Architecture architecture = spec.model.architecture;
    return switch (data.source) {
      case SYNTHETIC -> synthetic(data, spec.model, spec.training.seed);
      case CSV ->
          shaped(
              CsvData.read(Path.of(data.csv.path), data.csv.labelColumn),
              data,
              architecture,
              "spec.data.csv.path");
      case NPZ -> npz(data, spec.model);
    };
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

  private static Dataset npz(DataSpec data, ModelSpec model) {
    Path file = Path.of(data.npz.path);
    if (!Files.isRegularFile(file)) {
      throw new InvalidJobException("spec.data.npz.path", "file not found: " + file);
    }
    Map<String, Npz.NpyArray> arrays;
    List<String> names;
    try {
      names = Npz.names(file);
      arrays = Npz.read(file, List.of(data.npz.features, data.npz.labels));
    } catch (IOException e) {
      throw new InvalidJobException(
          "spec.data.npz.path", "cannot read " + file + " as .npz: " + e.getMessage());
    }
    Npz.NpyArray x = arrays.get(data.npz.features);
    Npz.NpyArray y = arrays.get(data.npz.labels);
    if (x == null) {
      throw new InvalidJobException(
          "spec.data.npz.features",
          "array \"" + data.npz.features + "\" is not in " + file + " (arrays: " + names + ")");
    }
    if (y == null) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          "array \"" + data.npz.labels + "\" is not in " + file + " (arrays: " + names + ")");
    }
    if (x.shape().length < 2 || y.shape().length < 1 || x.shape()[0] != y.shape()[0]) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          "features "
              + Arrays.toString(x.shape())
              + " and labels "
              + Arrays.toString(y.shape())
              + " must have the same number of samples (features at least 2-D)");
    }
    if (model.architecture == ModelSpec.Architecture.TRANSFORMER) {
      if (!x.integral()
          || !y.integral()
          || x.shape().length != 2
          || !Arrays.equals(x.shape(), y.shape())) {
        throw new InvalidJobException(
            "spec.data.npz.features",
            "the transformer needs integer token arrays [samples, length] for features and labels (the next tokens)");
      }
      int length = (int) x.shape()[1];
      ModelSpec.Transformer t =
          model.transformer != null ? model.transformer : new ModelSpec.Transformer();
      return new Dataset(
          Dataset.Kind.SEQUENCE, new int[] {length}, x.values(), y.values(), length, t.vocabSize);
    }
    if (y.shape().length != 1) {
      throw new InvalidJobException(
          "spec.data.npz.labels",
          "must be one label per sample, shape [samples] (got " + Arrays.toString(y.shape()) + ")");
    }
    int[] shape = new int[x.shape().length - 1];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = (int) x.shape()[i + 1];
    }
    return shaped(
        Labels.dataset(shape, x.values(), y.values()),
        data,
        model.architecture,
        "spec.data.npz.features");
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
