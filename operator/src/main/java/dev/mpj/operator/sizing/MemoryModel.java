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
 *   <li>activations per sample, from the architecture: the tensors autograd keeps for the backward
 *       pass at the end of the forward pass (the trainer frees every other intermediate as soon as
 *       the next operation has consumed it, and uses libtorch's fused batch norm, layer norm and a
 *       cross-entropy by class index), half the bytes in FP16; the loss's log-softmax stays FP32 in
 *       both precisions. Where the trainer keeps more than an ideal fused GPU kernel would (the
 *       attention matrices: DJL does not reach scaled_dot_product_attention), the model counts what
 *       the trainer keeps, because sizing must hold for what runs;
 *   <li>a reserve per GPU (CUDA context, workspaces, fragmentation) from {@link SizingSettings}.
 * </ul>
 *
 * <p>The trainer frees each micro-batch's activations after its backward pass, before the update
 * step makes its temporaries, so a step's peak is the model state plus the larger of the two, not
 * their sum ({@link MemoryBreakdown#training}).
 */
public final class MemoryModel {

  private MemoryModel() {}

  /**
   * Activation bytes of one sample, split by how they depend on the precision.
   *
   * @param scaledBytes16 tensors in the compute precision, counted at 16 bits; twice this in FP32
   * @param fixedBytes tensors of the same size in both precisions: the loss's FP32 log-softmax,
   *     boolean dropout masks
   * @param castBytes FP16 mixed only: what only the FP16 path keeps (nothing in this trainer: the
   *     input batch is written in the compute precision, and the FP32 copy of the outputs goes once
   *     the log-softmax is taken)
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
   * log-softmax, which its backward needs; the target's log-probability is picked by class index,
   * and the outputs (and their FP32 copy in mixed precision) go once it is taken. A regression
   * keeps its difference (also 4).
   */
  static final long LOSS_BYTES_PER_OUTPUT = 4;

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
   * The input batch (in the compute precision: the first Linear keeps it); per hidden layer the
   * activation's output (the next Linear's input; ReLU and tanh also need nothing else), and with
   * GELU also its input, the Linear's output; with dropout also its output and a one-byte mask. The
   * logits go once the loss's log-softmax is taken, which keeps {@link #LOSS_BYTES_PER_OUTPUT} per
   * output.
   */
  static Activations mlp(ModelSpec.Mlp mlp, long features, long outputs) {
    long hiddenValues = 0;
    for (int h : mlp.hiddenSizes) {
      hiddenValues += h;
    }
    boolean dropout = mlp.dropout > 0;
    long perHidden = mlp.activation == ModelSpec.Activation.GELU ? 2 : 1;
    long scaled16 = 2 * (features + perHidden * hiddenValues + (dropout ? hiddenValues : 0));
    long fixed = (dropout ? hiddenValues : 0) + LOSS_BYTES_PER_OUTPUT * outputs;
    return new Activations(scaled16, fixed, 0);
  }

  /**
   * The input batch (in the compute precision, kept by the stem conv). Stem: conv and ReLU at full
   * resolution. Each residual block: conv, ReLU, conv and the block's ReLU, plus the conv of a
   * projection shortcut. The first block of each later stage halves height and width (stride 2,
   * padding 1). Then the pooled vector; the logits go once the loss's log-softmax is taken, which
   * keeps {@link #LOSS_BYTES_PER_OUTPUT} per class.
   *
   * <p>What autograd keeps, one tensor each: every conv's output (libtorch's fused batch norm keeps
   * its input and two per-channel vectors), every ReLU's output (its own backward and the next conv
   * need it). BatchNorm outputs go once the ReLU or the residual sum has consumed them, and the sum
   * once its ReLU has.
   */
  static Activations cnn(ModelSpec.Cnn cnn, List<Integer> input, long classes) {
    long channels = input.get(0);
    long height = input.get(1);
    long width = input.get(2);
    long first = cnn.channels.get(0);
    long values = 2 * first * height * width; // stem conv, ReLU
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
        values += (projection ? 5 : 4) * out * height * width; // convs, ReLUs
        in = out;
      }
    }
    values += in; // pooled vector
    long pixels = channels * input.get(1) * input.get(2);
    return new Activations(2 * (pixels + values), LOSS_BYTES_PER_OUTPUT * classes, 0);
  }

  /**
   * Per layer, without dropout, 32*s*h bytes at 16 bits for everything but the attention matrices
   * and 2*a*s^2 for the softmax's output, the one attention matrix the trainer keeps (it scales and
   * masks the scores in place and frees them after the softmax): Korthikanti et al. 2022, "Reducing
   * Activation Recomputation in Large Transformer Models" (no recomputation, no sequence
   * parallelism) without its dropout terms. The s*h tensors: the layer's input and the first
   * LayerNorm's output, q, k and v (the contiguous copies the attention's matmuls keep), the merged
   * heads, the second LayerNorm's input and output, the 4H MLP values before and after GELU (4
   * each). With dropout the paper's 34*s*h + 5*a*s^2: one-byte masks after the attention and the
   * MLP, the attention dropout's mask (a*s^2 bytes) and output. Then the final LayerNorm's input
   * and output; the logits go once the loss's log-softmax is taken, which keeps {@link
   * #LOSS_BYTES_PER_OUTPUT} per logit (s*V of them).
   */
  static Activations transformer(ModelSpec.Transformer t) {
    long s = t.sequenceLength;
    long h = t.hiddenSize;
    long a = t.heads;
    long v = t.vocabSize;
    boolean dropout = t.dropout > 0;
    long perLayer = (dropout ? 34 : 32) * s * h + (dropout ? 5 : 2) * a * s * s;
    long scaled16 = t.layers * perLayer + 2 * (2 * s * h);
    return new Activations(scaled16, LOSS_BYTES_PER_OUTPUT * s * v, 0);
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
