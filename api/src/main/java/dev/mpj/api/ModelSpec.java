package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.ArrayList;
import java.util.List;

/** A built-in model architecture and its hyper-parameters. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelSpec {

  /** The built-in architectures. */
  public enum Architecture {
    @JsonProperty("mlp")
    MLP,
    @JsonProperty("cnn")
    CNN,
    @JsonProperty("transformer")
    TRANSFORMER
  }

  /** Non-linearity between layers. */
  public enum Activation {
    @JsonProperty("relu")
    RELU,
    @JsonProperty("gelu")
    GELU,
    @JsonProperty("tanh")
    TANH
  }

  @Required
  @JsonPropertyDescription(
      "mlp (fully connected), cnn (small residual network) or transformer (decoder-only LM).")
  public Architecture architecture;

  @JsonPropertyDescription("Hyper-parameters of the mlp architecture.")
  public Mlp mlp;

  @JsonPropertyDescription(
      "Hyper-parameters of the cnn architecture; its input shape comes from data.imageShape.")
  public Cnn cnn;

  @JsonPropertyDescription("Hyper-parameters of the transformer architecture.")
  public Transformer transformer;

  /** A multi-layer perceptron. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Mlp {
    @JsonPropertyDescription("Width of each hidden layer, input side first (default [512, 512]).")
    public List<Integer> hiddenSizes = new ArrayList<>(List.of(512, 512));

    @JsonPropertyDescription("relu, gelu or tanh (default relu).")
    public Activation activation = Activation.RELU;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Dropout probability after each hidden layer, in [0, 1) (default 0).")
    public double dropout = 0.0;
  }

  /** A small residual convolutional network. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Cnn {
    @JsonPropertyDescription(
        "Channels of each stage; each stage after the first halves the resolution (default [16, 32]).")
    public List<Integer> channels = new ArrayList<>(List.of(16, 32));

    @Min(1)
    @JsonPropertyDescription("Residual blocks per stage (default 2).")
    public int blocksPerStage = 2;
  }

  /** A decoder-only transformer language model with causal self-attention. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Transformer {
    @Min(1)
    @JsonPropertyDescription("Number of transformer layers (default 2).")
    public int layers = 2;

    @Min(1)
    @JsonPropertyDescription("Hidden size; a multiple of heads (default 128).")
    public int hiddenSize = 128;

    @Min(1)
    @JsonPropertyDescription("Attention heads per layer (default 4).")
    public int heads = 4;

    @Min(2)
    @JsonPropertyDescription("Number of distinct tokens (default 256).")
    public int vocabSize = 256;

    @Min(2)
    @JsonPropertyDescription("Tokens per training sequence (default 64).")
    public int sequenceLength = 64;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription(
        "Dropout probability in attention and feed-forward, in [0, 1) (default 0).")
    public double dropout = 0.0;
  }
}
