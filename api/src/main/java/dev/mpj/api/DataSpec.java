package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Where the training data comes from. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DataSpec {

  /** Kinds of data source. */
  public enum Source {
    @JsonProperty("synthetic")
    SYNTHETIC,
    @JsonProperty("csv")
    CSV,
    @JsonProperty("npz")
    NPZ
  }

  /** What the labels are: class indices, real values, or the next tokens of a sequence. */
  public enum Task {
    @JsonProperty("classification")
    CLASSIFICATION,
    @JsonProperty("regression")
    REGRESSION,
    @JsonProperty("sequence")
    SEQUENCE
  }

  @Required
  @JsonPropertyDescription(
      "synthetic (generated from the seed), csv or npz (a file on a mounted volume).")
  public Source source;

  @JsonPropertyDescription("Parameters of the synthetic data generator.")
  public Synthetic synthetic;

  @JsonPropertyDescription("A CSV file of numeric columns with a header row.")
  public Csv csv;

  @JsonPropertyDescription("A NumPy .npz archive.")
  public Npz npz;

  @JsonPropertyDescription(
      "For cnn: how each sample's features form an image, [channels, height, width]; "
          + "the product must equal the number of features.")
  public List<Integer> imageShape;

  @Min(0)
  @Max(0.9)
  @JsonPropertyDescription(
      "Fraction of the samples held out for validation, in [0, 0.9] (default 0.2).")
  public double validationFraction = 0.2;

  /** A generated, learnable task. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Synthetic {
    @JsonPropertyDescription(
        "classification, regression, or sequence (tokens, for the transformer).")
    public Task task = Task.CLASSIFICATION;

    @Min(1)
    @JsonPropertyDescription("Number of samples to generate (default 8192).")
    public int samples = 8192;

    @Min(1)
    @JsonPropertyDescription("Features per sample, for classification and regression (default 64).")
    public int features = 64;

    @Min(2)
    @JsonPropertyDescription("Number of classes, for classification (default 10).")
    public int classes = 10;
  }

  /** A CSV file. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Csv {
    @Required
    @JsonPropertyDescription(
        "Path of the CSV file inside the replica's pod (or on this machine for mpj-trainer).")
    public String path;

    @JsonPropertyDescription("Name of the column that holds the label (default label).")
    public String labelColumn = "label";

    @ValidationRule(
        value = "self != 'sequence'",
        message =
            "data.csv.task must be classification or regression; token sequences come in an npz")
    @JsonPropertyDescription(
        "classification (labels are class indices: whole numbers in [0, classes)) or regression"
            + " (labels are finite real numbers). Default: classification.")
    public Task task;

    @Min(2)
    @JsonPropertyDescription(
        "For classification: the number of classes; every label must be below it. Default: the"
            + " largest label in the file + 1 (at least 2).")
    public Integer classes;
  }

  /** A NumPy .npz archive. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Npz {
    @Required
    @JsonPropertyDescription(
        "Path of the .npz file inside the replica's pod (or on this machine for mpj-trainer).")
    public String path;

    @JsonPropertyDescription("Name of the array of features, shape [samples, ...] (default x).")
    public String features = "x";

    @JsonPropertyDescription(
        "Name of the array of labels, shape [samples], or [samples, length] for sequence"
            + " (default y).")
    public String labels = "y";

    @JsonPropertyDescription(
        "classification (labels are class indices: whole numbers in [0, classes)), regression"
            + " (labels are finite real numbers) or sequence (integer token ids in [0,"
            + " model.transformer.vocabSize), features and labels both [samples, length], the"
            + " labels the next tokens). Default: sequence for the transformer, classification"
            + " otherwise.")
    public Task task;

    @Min(2)
    @JsonPropertyDescription(
        "For classification: the number of classes; every label must be below it. Default: the"
            + " largest label in the archive + 1 (at least 2).")
    public Integer classes;
  }
}
