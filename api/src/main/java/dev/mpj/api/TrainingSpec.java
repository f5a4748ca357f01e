package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** Batch size, length of training, optimizer and seed. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingSpec {

  /** The optimizers the trainer offers. */
  public enum OptimizerType {
    @JsonProperty("adam")
    ADAM,
    @JsonProperty("sgd")
    SGD
  }

  @Required
  @Min(1)
  @JsonPropertyDescription(
      "Samples per optimizer step across all replicas: replicas x micro-batch x gradient accumulation.")
  public Integer globalBatchSize;

  @Min(1)
  @JsonPropertyDescription(
      "Number of optimizer steps (attempts, skipped ones included). Set steps or epochs.")
  public Integer steps;

  @Min(1)
  @JsonPropertyDescription("Number of passes over the training split; used when steps is unset.")
  public Integer epochs;

  @JsonPropertyDescription("The optimizer; its state is kept in FP32 in every precision.")
  public Optimizer optimizer = new Optimizer();

  @Min(0)
  @JsonPropertyDescription(
      "Clip gradients to this global L2 norm, measured on unscaled FP32 gradients. Unset or 0: off.")
  public Double gradientClipNorm;

  @JsonPropertyDescription("Seed of initialisation, data order and dropout (default 0).")
  public long seed = 0;

  /** Optimizer and its hyper-parameters. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Optimizer {
    @JsonPropertyDescription("adam (default) or sgd.")
    public OptimizerType type = OptimizerType.ADAM;

    @Min(0)
    @JsonPropertyDescription("Learning rate (default 0.001).")
    public double learningRate = 0.001;

    @Min(0)
    @JsonPropertyDescription("Decoupled weight decay (default 0).")
    public double weightDecay = 0.0;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Adam: decay of the first moment, in [0, 1) (default 0.9).")
    public double beta1 = 0.9;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Adam: decay of the second moment, in [0, 1) (default 0.999).")
    public double beta2 = 0.999;

    @Min(0)
    @JsonPropertyDescription("Adam: epsilon (default 1e-8).")
    public double epsilon = 1e-8;

    @Min(0)
    @JsonPropertyDescription("SGD: momentum, in [0, 1) (default 0: plain SGD).")
    public double momentum = 0.0;

    /** The type of {@code optimizer}: Adam where the optimizer or its type is unset. */
    public static OptimizerType typeOf(Optimizer optimizer) {
      return optimizer != null && optimizer.type != null ? optimizer.type : OptimizerType.ADAM;
    }

    /**
     * FP32 values the trainer keeps per parameter for {@code optimizer}: Adam's two moments, SGD's
     * momentum buffer where momentum is above 0, none for plain SGD.
     */
    public static int stateValuesPerParameter(Optimizer optimizer) {
      return switch (typeOf(optimizer)) {
        case ADAM -> 2;
        case SGD -> optimizer.momentum > 0 ? 1 : 0;
      };
    }
  }
}
