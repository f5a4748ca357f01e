package dev.mpj.operator.sizing;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingSpec;
import java.util.List;

/**
 * Predicted memory of one training replica, as pure functions of the spec. docs/concepts/sizing.md
 * derives every term; the short form:
 *
 * <ul>
 *   <li>model state per parameter: FP32 4 (weights) + 4 (gradients); FP16 mixed 2 (FP16 weights) + 4
 *       (FP32 master weights) + 2 (FP16 gradients); plus the optimizer's FP32 state in both: Adam 8,
 *       SGD with momentum 4, plain SGD 0;
 *   <li>activations per sample, from the architecture: the layer outputs alive at the end of the
 *       forward pass (the DJL trainer keeps every op's output until the step's NDManager closes),
 *       half the bytes in FP16; the loss and the input batch stay FP32 in both precisions;
 *   <li>a reserve per GPU (CUDA context, workspaces, fragmentation) from {@link SizingSettings}.
 * </ul>
 */
public final class MemoryModel {

  private MemoryModel() {}

  /**
   * Activation bytes of one sample, split by how they depend on the precision.
   *
   * @param scaledBytes16 tensors in the compute precision, counted at 16 bits; twice this in FP32
   * @param fixedBytes tensors of the same size in both precisions: the FP32 input batch, the FP32
   *     loss tensors, boolean dropout masks
   * @param castBytes FP16 mixed only: the FP16 copy of the input and the FP32 copy of the outputs
   *     that the loss is computed on
   */
  public record Activations(long scaledBytes16, long fixedBytes, long castBytes) {
    public long perSample(Precision precision) {
      return precision.isMixed() ? scaledBytes16 + fixedBytes + castBytes : 2 * scaledBytes16 + fixedBytes;
    }
  }

  public static long weightBytesPerParameter(Precision precision) {
    return precision.isMixed() ? 2 : 4;
  }

  public static long masterWeightBytesPerParameter(Precision precision) {
    return precision.isMixed() ? 4 : 0;
  }

  public static long gradientBytesPerParameter(Precision precision) {
    return precision.isMixed() ? 2 : 4;
  }

  /** FP32 optimizer state per parameter: Adam's two moments 8, SGD's momentum 4, plain SGD 0. */
  public static long optimizerBytesPerParameter(TrainingSpec.Optimizer optimizer) {
    TrainingSpec.Optimizer o = optimizer != null ? optimizer : new TrainingSpec.Optimizer();
    return switch (o.type != null ? o.type : TrainingSpec.OptimizerType.ADAM) {
      case ADAM -> 8;
      case SGD -> o.momentum > 0 ? 4 : 0;
    };
  }

  /** Activation bytes per sample of {@code model} on data of {@code shape} (complete for the model). */
  public static Activations activations(ModelSpec model, DataShape shape) {
    return switch (model.architecture) {
      case MLP -> mlp(model.mlp != null ? model.mlp : new ModelSpec.Mlp(), shape.features(), shape.outputs());
      case CNN -> cnn(model.cnn != null ? model.cnn : new ModelSpec.Cnn(), shape.cnnInput(), shape.outputs());
      case TRANSFORMER -> transformer(model.transformer != null ? model.transformer : new ModelSpec.Transformer());
    };
  }

  /**
   * Per hidden layer the Linear's output and the activation's output (the next Linear's input); with
   * dropout also its output and a one-byte mask. Then the logits. The input batch is FP32 as loaded,
   * cast to FP16 in mixed precision; the loss keeps an FP32 log-softmax (or difference) of the outputs.
   */
  static Activations mlp(ModelSpec.Mlp mlp, long features, long outputs) {
    long hiddenValues = 0;
    for (int h : mlp.hiddenSizes) {
      hiddenValues += h;
    }
    boolean dropout = mlp.dropout > 0;
    long scaled16 = 2 * (2 * hiddenValues + (dropout ? hiddenValues : 0) + outputs);
    long fixed = 4 * features + (dropout ? hiddenValues : 0) + 4 * outputs;
    long cast = 2 * features + 4 * outputs;
    return new Activations(scaled16, fixed, cast);
  }

  /**
   * Stem: conv, BatchNorm and ReLU outputs at full resolution. Each residual block: conv, BN, ReLU,
   * conv, BN, the sum and its ReLU (7 tensors of the block's output), plus conv and BN of a
   * projection shortcut (9). The first block of each later stage halves height and width (stride 2,
   * padding 1). Then the pooled vector and the logits; input and loss as for the MLP.
   */
  static Activations cnn(ModelSpec.Cnn cnn, List<Integer> input, long classes) {
    long channels = input.get(0);
    long height = input.get(1);
    long width = input.get(2);
    long first = cnn.channels.get(0);
    long values = 3 * first * height * width;
    long in = first;
    for (int stage = 0; stage < cnn.channels.size(); stage++) {
      long out = cnn.channels.get(stage);
      for (int block = 0; block < cnn.blocksPerStage; block++) {
        boolean strided = stage > 0 && block == 0;
        if (strided) {
          height = (height + 1) / 2;
          width = (width + 1) / 2;
        }
        long tensors = in != out || strided ? 9 : 7;
        values += tensors * out * height * width;
        in = out;
      }
    }
    values += in + classes;
    long pixels = channels * input.get(1) * input.get(2);
    return new Activations(2 * values, 4 * pixels + 4 * classes, 2 * pixels + 4 * classes);
  }

  /**
   * Per layer s*h*(34 + 5*a*s/h) bytes at 16 bits (Korthikanti et al. 2022, "Reducing Activation
   * Recomputation in Large Transformer Models", no recomputation, no sequence parallelism), written
   * as 34*s*h + 5*a*s^2 to stay in integers; then the final LayerNorm's input and output and the
   * logits (s*V); the loss keeps an FP32 log-softmax of the logits.
   */
  static Activations transformer(ModelSpec.Transformer t) {
    long s = t.sequenceLength;
    long h = t.hiddenSize;
    long a = t.heads;
    long v = t.vocabSize;
    long perLayer = 34 * s * h + 5 * a * s * s;
    long scaled16 = t.layers * perLayer + 2 * (2 * s * h) + 2 * s * v;
    return new Activations(scaled16, 4 * s * v, 4 * s * v);
  }

  /** Model state of {@code parameters} in {@code precision}: no activations, no reserve. */
  public static MemoryBreakdown modelState(long parameters, Precision precision, TrainingSpec.Optimizer optimizer) {
    return new MemoryBreakdown(
        parameters * weightBytesPerParameter(precision),
        parameters * masterWeightBytesPerParameter(precision),
        parameters * gradientBytesPerParameter(precision),
        parameters * optimizerBytesPerParameter(optimizer),
        0,
        0);
  }

  /** One replica at {@code microBatch} samples, with {@code overheadBytes} of reserve. */
  public static MemoryBreakdown perReplica(
      long parameters,
      TrainingSpec.Optimizer optimizer,
      Activations activations,
      Precision precision,
      int microBatch,
      long overheadBytes) {
    MemoryBreakdown state = modelState(parameters, precision, optimizer);
    return new MemoryBreakdown(
        state.weights(),
        state.masterWeights(),
        state.gradients(),
        state.optimizerState(),
        microBatch * activations.perSample(precision),
        overheadBytes);
  }

  /**
   * What the training process of one replica of {@code spec} allocates at {@code microBatch} in
   * {@code precision}, without any GPU reserve: the figure to compare with a measured peak.
   */
  public static MemoryBreakdown perReplica(
      MixedPrecisionJobSpec spec, DataShape shape, Precision precision, int microBatch) {
    long parameters = ModelParameters.count(spec.model, shape);
    return perReplica(
        parameters, spec.training.optimizer, activations(spec.model, shape), precision, microBatch, 0);
  }
}
