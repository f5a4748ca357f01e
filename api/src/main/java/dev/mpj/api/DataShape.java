package dev.mpj.api;

import java.util.ArrayList;
import java.util.List;

/**
 * What a model sees of its data: features per sample, how they form an image, and the number of
 * outputs of the model's head. Synthetic data states all three in the spec; for a CSV or NPZ file
 * the features (and the classes, unless the spec states them) are only known from the file, so a
 * caller that has not read it passes them in.
 *
 * @param features values per sample (the MLP's input width), or null when unknown
 * @param imageShape [channels, height, width] as data.imageShape states it, or null
 * @param outputs width of the head: classes for classification, 1 for regression; null when unknown
 */
public record DataShape(Integer features, List<Integer> imageShape, Integer outputs) {

  public DataShape {
    imageShape = imageShape == null ? null : List.copyOf(imageShape);
  }

  /**
   * The shape as far as the spec states it: for a csv or npz file, the outputs follow the stated
   * task (1 for regression, data.csv.classes or data.npz.classes for classification).
   */
  public static DataShape of(DataSpec data) {
    List<Integer> image = data.imageShape;
    Integer fromImage =
        image != null && image.size() == 3 ? image.get(0) * image.get(1) * image.get(2) : null;
    Integer outputs =
        switch (DataTask.of(data, null)) {
          case CLASSIFICATION -> DataTask.statedClasses(data);
          case REGRESSION -> 1;
          case SEQUENCE -> null;
        };
    if (data.source != DataSpec.Source.SYNTHETIC) {
      return new DataShape(fromImage, image, outputs);
    }
    DataSpec.Synthetic s = data.synthetic != null ? data.synthetic : new DataSpec.Synthetic();
    return new DataShape(s.features, image, outputs);
  }

  public DataShape withFeatures(int features) {
    return new DataShape(features, imageShape, outputs);
  }

  public DataShape withOutputs(int outputs) {
    return new DataShape(features, imageShape, outputs);
  }

  /**
   * The CNN's input [channels, height, width]: data.imageShape, else [1, s, s] when the features
   * are a square s*s; null when neither is known.
   */
  public List<Integer> cnnInput() {
    if (imageShape != null) {
      return imageShape;
    }
    if (features == null) {
      return null;
    }
    int side = (int) Math.round(Math.sqrt(features));
    return side * side == features ? List.of(1, side, side) : null;
  }

  /**
   * What {@code model} needs from the data that this shape does not say, in the words of the spec;
   * empty when complete.
   */
  public List<String> missingFor(ModelSpec model) {
    List<String> missing = new ArrayList<>();
    switch (model.architecture) {
      case MLP -> {
        if (features == null) {
          missing.add("features");
        }
        if (outputs == null) {
          missing.add("classes");
        }
      }
      case CNN -> {
        if (cnnInput() == null) {
          missing.add(
              features == null
                  ? "features"
                  : "imageShape (" + features + " features are not a square)");
        }
        if (outputs == null) {
          missing.add("classes");
        }
      }
      case TRANSFORMER -> {}
    }
    return missing;
  }
}
