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
 *   <li>model state per parameter: FP32 4 (weights) + 4 (gradients); FP16 mixed 2 (FP16 weights) +
 *       4 (FP32 master weights) + 2 (FP16 gradients); plus the optimizer's FP32 state in both: Adam
 *       8, SGD with momentum 4, plain SGD 0;
 *   <li>update-step temporaries, bounded by the trainer's update pieces (1 MiB of FP32 each): FP32
 *       with Adam 2 pieces, FP16 mixed with Adam 4; with SGD 1 and 3 ({@link
 *       #updateTemporaryBytes});
 *   <li>activations per sample, from the architecture: the layer outputs alive at the end of the
 *       forward pass (the DJL trainer keeps every op's output until the step's NDManager closes),
 *       half the bytes in FP16; the loss and the input batch stay FP32 in both precisions. Where
 *       the trainer's layers (written with DJL's elementwise operations) keep more tensors than an
 *       ideal fused GPU kernel would, the model counts what the trainer keeps (BatchNorm,
 *       attention, loss), because sizing must hold for what runs;
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
   * @param castBytes FP16 mixed only: the FP16 copy of the input, the FP32 copy of the outputs that
   *     the loss is computed on, and what only the FP16 path of a layer makes (BatchNorm)
   */
  public record Activations(long scaledBytes16, long fixedBytes, long castBytes) {
    public long perSample(Precision precision) {
      return precision.isMixed()
          ? scaledBytes16 + fixedBytes + castBytes
          : 2 * scaledBytes16 + fixedBytes;
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
    return switch (optimizerType(optimizer)) {
      case ADAM -> 8;
      case SGD -> optimizer.momentum > 0 ? 4 : 0;
    };
  }

  /**
   * Elements of one piece of the trainer's update step (the trainer's {@code Slices.ELEMENTS}): 1
   * MiB of FP32.
   */
  public static final long UPDATE_PIECE_ELEMENTS = 1L << 18;

  /**
   * Temporaries of one update step. The trainer unscales, checks, clips and updates the weights in
   * pieces of at most {@link #UPDATE_PIECE_ELEMENTS} elements and closes each piece's temporaries
   * before the next piece, so they do not grow with the model: a few pieces, or a few copies of the
   * model where it is smaller than a piece. In FP32 pieces of {@code min(parameters, piece)}
   * elements:
   *
   * <ul>
   *   <li>the overflow check and the global norm (one L2 norm per piece, read back together): none
   *       in FP32, which takes the norm of the gradient itself; in FP16 mixed the FP32 copy of the
   *       piece, closed before the update;
   *   <li>FP32 with Adam: 2 ({@code sqrt(v)...} and {@code m/denominator}; {@code g*(1-b1)} and
   *       {@code g^2} come and go one at a time before them); with SGD: 1 ({@code b*lr} or {@code
   *       g*lr});
   *   <li>FP16 mixed: one more, the piece's FP32 gradient (unscaled and clipped in the same
   *       multiplication), and what the FP16 conversions hold besides: measured ({@code mpj-trainer
   *       bench}, mlp 64-2048-2048-10) 3.6 pieces with Adam and 2.6 with SGD, counted as 4 and 3;
   *   <li>the copy-back into the FP16 weights converts while it copies: none.
   * </ul>
   *
   * Measured above what was resident at the end of backward: FP32 Adam 2.0, SGD 1.1, FP16 mixed
   * Adam 3.6, SGD 2.6 MiB, for 4.3 million parameters (before the pieces: 24, 12, 34 and 22
   * B/param).
   */
  public static long updateTemporaryBytes(
      long parameters, Precision precision, TrainingSpec.Optimizer optimizer) {
    long pieces =
        switch (optimizerType(optimizer)) {
          case ADAM -> precision.isMixed() ? 4 : 2;
          case SGD -> precision.isMixed() ? 3 : 1;
        };
    return pieces * 4 * Math.min(parameters, UPDATE_PIECE_ELEMENTS);
  }

  private static TrainingSpec.OptimizerType optimizerType(TrainingSpec.Optimizer optimizer) {
    return optimizer != null && optimizer.type != null
        ? optimizer.type
        : TrainingSpec.OptimizerType.ADAM;
  }

  /**
   * FP32 bytes the loss keeps per output value, in both precisions (Objective.perSampleLoss): the
   * log-softmax, the one-hot target and their product. A regression keeps two (difference, square);
   * the model counts three for both.
   */
  static final long LOSS_BYTES_PER_OUTPUT = 3 * 4;

  /**
   * Activation bytes per sample of {@code model} on data of {@code shape} (complete for the model).
   */
  public static Activations activations(ModelSpec model, DataShape shape) {
    return switch (model.architecture) {
      case MLP ->
          mlp(
              model.mlp != null ? model.mlp : new ModelSpec.Mlp(),
              shape.features(),
              shape.outputs());
      case CNN ->
          cnn(
              model.cnn != null ? model.cnn : new ModelSpec.Cnn(),
              shape.cnnInput(),
              shape.outputs());
      case TRANSFORMER ->
          transformer(model.transformer != null ? model.transformer : new ModelSpec.Transformer());
    };
  }

  /**
   * Per hidden layer the Linear's output and the activation's output (the next Linear's input);
   * with dropout also its output and a one-byte mask. Then the logits. The input batch is FP32 as
   * loaded, cast to FP16 in mixed precision; the loss keeps {@link #LOSS_BYTES_PER_OUTPUT} per
   * output.
   */
  static Activations mlp(ModelSpec.Mlp mlp, long features, long outputs) {
    long hiddenValues = 0;
    for (int h : mlp.hiddenSizes) {
      hiddenValues += h;
    }
    boolean dropout = mlp.dropout > 0;
    long scaled16 = 2 * (2 * hiddenValues + (dropout ? hiddenValues : 0) + outputs);
    long fixed = 4 * features + (dropout ? hiddenValues : 0) + LOSS_BYTES_PER_OUTPUT * outputs;
    long cast = 2 * features + 4 * outputs;
    return new Activations(scaled16, fixed, cast);
  }

  /**
   * BatchNorm2d, bytes per value of its output: 5 tensors in the compute precision (at 16 bits).
   */
  private static final long BN_SCALED16 = 5 * 2;

  /**
   * BatchNorm2d's running statistics: the centred values and their squares, FP32 in both
   * precisions.
   */
  private static final long BN_FIXED = 2 * 4;

  /**
   * BatchNorm2d in FP16 mixed only: |centred| and centred / max (FP16), the FP32 copy of the input.
   */
  private static final long BN_MIXED_ONLY = 2 * 2 + 4;

  /**
   * Stem: conv, BatchNorm and ReLU at full resolution. Each residual block: conv, BN, ReLU, conv,
   * BN, the sum and its ReLU, plus conv and BN of a projection shortcut. The first block of each
   * later stage halves height and width (stride 2, padding 1). Then the pooled vector and the
   * logits; input and loss as for the MLP.
   *
   * <p>Conv, ReLU and sum keep one tensor each. A BatchNorm keeps what the trainer's BatchNorm2d
   * (elementwise DJL operations) keeps, per value of its output: the centred input, its square, the
   * normalised values, times gamma, plus beta (5 tensors in the compute precision); the running
   * statistics' centred values and their squares (2, FP32 in both precisions); in FP16 mixed also
   * {@code |centred|} and the centred values divided by their largest magnitude (2 FP16) and the
   * FP32 copy of the input that the running statistics are computed on. That is 7 x 4 = 28 bytes in
   * FP32 and 7 x 2 + 3 x 4 = 26 in FP16 mixed, where a fused kernel would keep one output.
   */
  static Activations cnn(ModelSpec.Cnn cnn, List<Integer> input, long classes) {
    long channels = input.get(0);
    long height = input.get(1);
    long width = input.get(2);
    long first = cnn.channels.get(0);
    long plainValues = 2 * first * height * width; // stem conv, ReLU
    long batchNormValues = first * height * width; // stem BN
    long in = first;
    for (int stage = 0; stage < cnn.channels.size(); stage++) {
      long out = cnn.channels.get(stage);
      for (int block = 0; block < cnn.blocksPerStage; block++) {
        boolean strided = stage > 0 && block == 0;
        if (strided) {
          height = (height + 1) / 2;
          width = (width + 1) / 2;
        }
        boolean projection = in != out || strided;
        long size = out * height * width;
        plainValues += (projection ? 6 : 5) * size; // convs, ReLUs, the sum
        batchNormValues += (projection ? 3 : 2) * size;
        in = out;
      }
    }
    plainValues += in + classes; // pooled vector, logits
    long pixels = channels * input.get(1) * input.get(2);
    return new Activations(
        2 * plainValues + BN_SCALED16 * batchNormValues,
        4 * pixels + BN_FIXED * batchNormValues + LOSS_BYTES_PER_OUTPUT * classes,
        2 * pixels + BN_MIXED_ONLY * batchNormValues + 4 * classes);
  }

  /**
   * Per layer 34*s*h bytes at 16 bits for everything but the attention matrices (Korthikanti et al.
   * 2022, "Reducing Activation Recomputation in Large Transformer Models", no recomputation, no
   * sequence parallelism). The attention matrices follow the trainer's CausalSelfAttention rather
   * than the paper's fused kernels: the scores, the scores divided by sqrt(d), plus the causal
   * mask, and the softmax are 4 tensors of a*s^2, 8*a*s^2 bytes at 16 bits (the paper: 5*a*s^2);
   * with dropout, the dropout's noise and output add 2 more (4*a*s^2). Then the final LayerNorm's
   * input and output and the logits (s*V); the loss keeps {@link #LOSS_BYTES_PER_OUTPUT} per logit
   * (s*V of them).
   */
  static Activations transformer(ModelSpec.Transformer t) {
    long s = t.sequenceLength;
    long h = t.hiddenSize;
    long a = t.heads;
    long v = t.vocabSize;
    long attentionTensors = t.dropout > 0 ? 6 : 4;
    long perLayer = 34 * s * h + 2 * attentionTensors * a * s * s;
    long scaled16 = t.layers * perLayer + 2 * (2 * s * h) + 2 * s * v;
    return new Activations(scaled16, LOSS_BYTES_PER_OUTPUT * s * v, 4 * s * v);
  }

  /**
   * Model state and update temporaries of {@code parameters} in {@code precision}: no activations,
   * no reserve.
   */
  public static MemoryBreakdown modelState(
      long parameters, Precision precision, TrainingSpec.Optimizer optimizer) {
    return new MemoryBreakdown(
        parameters * weightBytesPerParameter(precision),
        parameters * masterWeightBytesPerParameter(precision),
        parameters * gradientBytesPerParameter(precision),
        parameters * optimizerBytesPerParameter(optimizer),
        updateTemporaryBytes(parameters, precision, optimizer),
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
        state.updateTemporaries(),
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
        parameters,
        spec.training.optimizer,
        activations(spec.model, shape),
        precision,
        microBatch,
        0);
  }
}
