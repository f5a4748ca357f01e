package dev.mpj.operator.sizing;

import dev.mpj.api.DataShape;
import dev.mpj.api.LossChunks;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingSpec;
import dev.mpj.api.UpdatePieces;
import java.util.List;

/**
 * Predicted memory of one training replica, as pure functions of the spec. docs/concepts/sizing.md
 * derives every term; the short form:
 *
 * <ul>
 *   <li>model state per parameter: FP32 4 (weights) + 4 (gradients); FP16 mixed 2 (FP16 weights) +
 *       4 (FP32 master weights) + 2 (FP16 gradients); plus the optimizer's FP32 state in both: Adam
 *       8, SGD with momentum 4, plain SGD 0;
 *   <li>update-step temporaries, bounded by the trainer's update pieces: with Adam 1.25 MiB in FP32
 *       and 1.5 MiB in FP16 mixed; with SGD 1 and 2 MiB ({@link #updateTemporaryBytes});
 *   <li>activations per sample, from the architecture: the tensors autograd keeps for the backward
 *       pass at the end of the forward pass (the trainer frees every other intermediate as soon as
 *       the next operation has consumed it, and uses libtorch's fused batch norm, layer norm and a
 *       cross-entropy by class index), half the bytes in FP16; the loss's log-softmax stays FP32 in
 *       both precisions. Where the trainer keeps more than an ideal fused GPU kernel would (the
 *       attention matrices: DJL does not reach scaled_dot_product_attention), the model counts what
 *       the trainer keeps, because sizing must hold for what runs; plus the gradients the backward
 *       pass holds beside them at its peak ({@link BackwardTransient}), and once per micro-batch
 *       the new gradient of the largest parameter ({@link WeightGradient});
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
   * Activation bytes of one sample, split by how they depend on the precision, what the backward
   * pass holds beside them at its peak, and the one weight gradient it holds beside those.
   *
   * @param scaledBytes16 tensors in the compute precision, counted at 16 bits; twice this in FP32
   * @param fixedBytes tensors of the same size in both precisions: the loss's FP32 log-softmax,
   *     boolean dropout masks
   * @param castBytes FP16 mixed only: what only the FP16 path keeps (nothing in this trainer: the
   *     input batch is written in the compute precision, and the FP32 copy of the outputs goes once
   *     the log-softmax is taken)
   * @param backward the backward pass's transient gradients, held beside the activations ({@link
   *     BackwardTransient})
   * @param weightGradient the new gradient of the largest parameter, held beside them once per
   *     micro-batch, not per sample ({@link WeightGradient})
   */
  public record Activations(
      long scaledBytes16,
      long fixedBytes,
      long castBytes,
      BackwardTransient backward,
      WeightGradient weightGradient) {
    /** Activations with backward's transient and no weight gradient. */
    public Activations(
        long scaledBytes16, long fixedBytes, long castBytes, BackwardTransient backward) {
      this(scaledBytes16, fixedBytes, castBytes, backward, WeightGradient.NONE);
    }

    /** Activations alone, with no backward transient. */
    public Activations(long scaledBytes16, long fixedBytes, long castBytes) {
      this(scaledBytes16, fixedBytes, castBytes, BackwardTransient.NONE);
    }

    /** What the forward pass leaves for the backward pass: the tensors autograd keeps. */
    public long heldPerSample(Precision precision) {
      return precision.isMixed()
          ? scaledBytes16 + fixedBytes + castBytes
          : 2 * scaledBytes16 + fixedBytes;
    }

    /** The peak per sample: what autograd keeps plus the backward pass's transient beside it. */
    public long perSample(Precision precision) {
      return heldPerSample(precision) + backward.perSample(precision);
    }

    /**
     * The peak of a micro-batch of {@code microBatch} samples: {@link #perSample} for each, and the
     * weight gradient once.
     */
    public long forMicroBatch(Precision precision, int microBatch) {
      return microBatch * perSample(precision) + weightGradient.bytes(precision);
    }

    /** These activations with {@code weightGradient}. */
    Activations with(WeightGradient weightGradient) {
      return new Activations(scaledBytes16, fixedBytes, castBytes, backward, weightGradient);
    }
  }

  /**
   * The new gradient backward makes for a parameter before adding it into the parameter's kept
   * gradient. The trainer keeps each parameter's gradient from step to step and zeroes it (DJL
   * reaches no way to drop it, as PyTorch's {@code zero_grad(set_to_none=True)} does), so autograd
   * makes each parameter's gradient anew and adds it in place: for the largest parameter, once per
   * micro-batch, beside the activations still held. Bytes per element of that parameter: 4 in FP32;
   * in FP16 mixed 2 on a GPU, and 6 on a CPU, where libtorch's FP16 matrix product (no FP16 kernel
   * without AVX512-FP16) makes the FP32 product and then its FP16 copy.
   *
   * @param elements the largest trainable parameter's elements ({@link
   *     ModelParameters#tensorSizes})
   * @param bytesPerElementMixed 2 on a GPU, 6 on a CPU
   */
  public record WeightGradient(long elements, long bytesPerElementMixed) {
    public static final WeightGradient NONE = new WeightGradient(0, 0);

    /** FP32 bytes per element of the new gradient. */
    static final long BYTES_PER_ELEMENT_FP32 = 4;

    /** The largest of {@code sizes} on {@code device}. */
    static WeightGradient of(long[] sizes, Device device) {
      long largest = 0;
      for (long size : sizes) {
        largest = Math.max(largest, size);
      }
      return new WeightGradient(largest, device == Device.CPU ? 6 : 2);
    }

    public long bytes(Precision precision) {
      return elements * (precision.isMixed() ? bytesPerElementMixed : BYTES_PER_ELEMENT_FP32);
    }
  }

  /**
   * The gradients the backward pass holds at once beside the activations, per sample: at the start
   * of backward every activation is still held, and the first operations make gradients of the size
   * of their inputs before any saved tensor is freed. The peak is the larger of two stages:
   *
   * @param lossBytesFp32 the loss's backward in FP32 ({@link #lossBackward})
   * @param lossBytesMixed the loss's backward in FP16 mixed (the loss runs in FP32 in both; only
   *     what the pieces of a split loss leave differs)
   * @param layerBytesFp32 the widest layer's backward in FP32: the gradient of the layer's output
   *     and of its input at once
   * @param layerBytesMixed the same in FP16 mixed: half of FP32's, except where the layer runs
   *     otherwise in FP16 (a convolution on a CPU, {@link Device#CPU})
   */
  public record BackwardTransient(
      long lossBytesFp32, long lossBytesMixed, long layerBytesFp32, long layerBytesMixed) {
    public static final BackwardTransient NONE = new BackwardTransient(0, 0);

    /** A loss whose backward holds {@code lossBytes} in both precisions. */
    public BackwardTransient(long lossBytes, long layerBytes16) {
      this(lossBytes, lossBytes, layerBytes16);
    }

    /**
     * A layer of {@code layerBytes16} in the compute precision, counted at 16 bits (twice this in
     * FP32).
     */
    public BackwardTransient(long lossBytesFp32, long lossBytesMixed, long layerBytes16) {
      this(lossBytesFp32, lossBytesMixed, 2 * layerBytes16, layerBytes16);
    }

    public long perSample(Precision precision) {
      return precision.isMixed()
          ? Math.max(lossBytesMixed, layerBytesMixed)
          : Math.max(lossBytesFp32, layerBytesFp32);
    }

    /** This transient with the loss's part replaced by {@code loss}'s. */
    BackwardTransient withLoss(BackwardTransient loss) {
      return new BackwardTransient(
          loss.lossBytesFp32, loss.lossBytesMixed, layerBytesFp32, layerBytesMixed);
    }
  }

  /**
   * Where the trainer runs. What differs for the model is how the trainer runs an FP16 convolution,
   * and so what the backward pass of a CNN holds beside the activations ({@link #cnn}).
   */
  public enum Device {
    /** cuDNN runs each convolution over the whole micro-batch, in either precision. */
    GPU,
    /**
     * libtorch on a CPU: FP32 convolutions over the whole micro-batch (oneDNN); FP16 ones over
     * pieces of 8 samples (the trainer's {@code ConvolutionPieces}: libtorch has no FP16
     * convolution kernel on a CPU without AVX512-FP16, and its fallback unfolds its input).
     */
    CPU
  }

  /**
   * FP32 bytes the loss's backward holds per output value beside the activations when the loss is
   * taken whole: the gradients of the log-softmax's output (the class-index pick's backward fills a
   * tensor of the outputs' size) and of its input, beside the log-softmax output the activations
   * count (a regression: the gradients of the square and of the difference).
   */
  static final long LOSS_BACKWARD_BYTES_PER_OUTPUT = 8;

  /**
   * The loss's backward per sample for {@code outputsPerSample} output values (classes, or
   * positions x vocabulary). Taken whole ({@link LossChunks#split} false): {@link
   * #LOSS_BACKWARD_BYTES_PER_OUTPUT} per value in both precisions. Taken in {@link
   * LossChunks#PIECES} pieces of rows, autograd runs one piece's backward after the other:
   *
   * <ul>
   *   <li>while the pieces run, the log-softmax is replaced piece by piece by the gradient of the
   *       outputs, and the one running piece holds its two FP32 gradients: 8 / pieces bytes per
   *       value above the activations in FP16 mixed (the finished pieces' FP16 gradients take less
   *       than the log-softmax they replace);
   *   <li>then the pieces' gradients are joined into one gradient of the outputs, in the compute
   *       precision, both at once once the log-softmax is gone: in FP32 4 + 4 bytes per value
   *       against the log-softmax's 4, so 4 above the activations; in FP16 mixed 2 + 2, none.
   * </ul>
   *
   * Exact where the rows of a micro-batch (samples, or samples x positions) are a multiple of
   * {@link LossChunks#PIECES}; otherwise a piece has at most one row more than this counts.
   */
  static BackwardTransient lossBackward(long outputsPerSample) {
    if (!LossChunks.split(outputsPerSample)) {
      return new BackwardTransient(LOSS_BACKWARD_BYTES_PER_OUTPUT * outputsPerSample, 0);
    }
    return new BackwardTransient(
        Math.max(4, LOSS_BACKWARD_BYTES_PER_OUTPUT / LossChunks.PIECES) * outputsPerSample,
        LOSS_BACKWARD_BYTES_PER_OUTPUT * outputsPerSample / LossChunks.PIECES,
        0);
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
    return 4L * TrainingSpec.Optimizer.stateValuesPerParameter(optimizer);
  }

  /**
   * Temporaries of one update step. The trainer takes the norms, unscales, clips and updates the
   * weights in {@link UpdatePieces pieces} and closes each piece's temporaries before the next
   * piece, so they do not grow with the model: a few pieces, or a few copies of the model where it
   * is smaller than a piece. With {@code n = min(parameters, 2^18)} and {@code f = min(parameters,
   * 2^16)}, in FP32 bytes:
   *
   * <ul>
   *   <li>the norms (the overflow check and the global norm, one L2 norm per piece of {@code n},
   *       read back together): nothing in FP32, which takes the norm of the gradient itself; in
   *       FP16 mixed the FP32 copy of the piece, {@code 4n}, closed before the update;
   *   <li>Adam, libtorch's fused kernel on pieces of {@code f}: its {@link
   *       UpdatePieces#FUSED_TEMPORARIES five temporaries}, {@code 20f}; in FP16 mixed also the
   *       piece's FP32 gradient (unscaled and clipped in the kernel), {@code 24f} in all, more than
   *       the norms' {@code 4n};
   *   <li>SGD on pieces of {@code n}: the change ({@code b*lr} or {@code g*lr}), {@code 4n}; in
   *       FP16 mixed also the piece's FP32 gradient, {@code 8n} (in FP32 a step that clipping
   *       scales also makes a scaled copy of the gradient, one more piece, which the reserve
   *       covers);
   *   <li>the copy-back into the FP16 weights converts while it copies: none.
   * </ul>
   *
   * Measured above what was resident at the end of backward, step by step after the first update
   * ({@code mpj-trainer bench}, mlp 64-2048-2048-10, 4.35 million parameters, the code paged in by
   * the first update left out): FP32 Adam 1.1-1.3 MiB (20f: 1.25), SGD 0.9-1.1 (1), FP16 mixed Adam
   * 1.4-1.6 (1.5), SGD 2.0 (2).
   */
  public static long updateTemporaryBytes(
      long parameters, Precision precision, TrainingSpec.Optimizer optimizer) {
    long piece = 4 * Math.min(parameters, UpdatePieces.ELEMENTS);
    long fused = 4 * Math.min(parameters, UpdatePieces.FUSED_ELEMENTS);
    boolean mixed = precision.isMixed();
    return switch (TrainingSpec.Optimizer.typeOf(optimizer)) {
      case ADAM ->
          mixed
              ? Math.max(piece, (UpdatePieces.FUSED_TEMPORARIES + 1) * fused)
              : UpdatePieces.FUSED_TEMPORARIES * fused;
      case SGD -> mixed ? 2 * piece : piece;
    };
  }

  /**
   * FP32 bytes the loss keeps per output value, in both precisions (Objective.perSampleLoss): the
   * log-softmax, which its backward needs; the target's log-probability is picked by class index,
   * and the outputs (and their FP32 copy in mixed precision) go once it is taken. A regression
   * keeps its difference (also 4).
   */
  static final long LOSS_BYTES_PER_OUTPUT = 4;

  /**
   * Activation bytes per sample of {@code model} on data of {@code shape} (complete for the model),
   * on a GPU.
   */
  public static Activations activations(ModelSpec model, DataShape shape) {
    return activations(model, shape, Device.GPU);
  }

  /**
   * Activation bytes per sample of {@code model} on data of {@code shape} (complete for the model),
   * when the trainer runs on {@code device}.
   */
  public static Activations activations(ModelSpec model, DataShape shape, Device device) {
    return layers(model, shape, device)
        .with(WeightGradient.of(ModelParameters.tensorSizes(model, shape), device));
  }

  private static Activations layers(ModelSpec model, DataShape shape, Device device) {
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
              shape.outputs(),
              device);
      case TRANSFORMER ->
          transformer(model.transformer != null ? model.transformer : new ModelSpec.Transformer());
    };
  }

  /**
   * The input batch (in the compute precision: the first Linear keeps it); per hidden layer the
   * activation's output (the next Linear's input; ReLU and tanh also need nothing else), and with
   * GELU also its input, the Linear's output; with dropout also its output and a one-byte mask. The
   * logits go once the loss's log-softmax is taken, which keeps {@link #LOSS_BYTES_PER_OUTPUT} per
   * output. Backward holds beside them the gradients of the widest hidden layer's output and input
   * ({@code h + max(h, previous width)}), or the loss's, whichever is larger.
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
    // A hidden layer's backward: the activation's backward holds the gradient of its output and
    // of its input (2h); the Linear's, the gradient of its output and of its input (h + the width
    // before it; none for the first, whose input takes no gradient).
    long widest = 0;
    long previous = 0;
    for (int h : mlp.hiddenSizes) {
      widest = Math.max(widest, h + Math.max(h, previous));
      previous = h;
    }
    return new Activations(
        scaled16, fixed, 0, new BackwardTransient(0, 2 * widest).withLoss(lossBackward(outputs)));
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
   *
   * <p>Backward holds beside them, per sample, maps of the widest block's output size ({@link
   * #CONV_BACKWARD_HALF_MAPS_WHOLE}, {@link #CONV_BACKWARD_HALF_MAPS_PIECES}): 3 where the
   * convolutions run over the whole micro-batch, 1.5 where the trainer runs them over pieces of 8
   * samples (FP16 on a CPU, {@link Device#CPU}).
   */
  static Activations cnn(ModelSpec.Cnn cnn, List<Integer> input, long classes, Device device) {
    long channels = input.get(0);
    long height = input.get(1);
    long width = input.get(2);
    long first = cnn.channels.get(0);
    long values = 2 * first * height * width; // stem conv, ReLU
    long widestMap = first * height * width;
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
        widestMap = Math.max(widestMap, out * height * width);
        values += (projection ? 5 : 4) * out * height * width; // convs, ReLUs
        in = out;
      }
    }
    values += in; // pooled vector
    long pixels = channels * input.get(1) * input.get(2);
    // Half a map at 16 bits is widestMap bytes.
    long whole16 = CONV_BACKWARD_HALF_MAPS_WHOLE * widestMap;
    long mixed16 = device == Device.CPU ? CONV_BACKWARD_HALF_MAPS_PIECES * widestMap : whole16;
    return new Activations(
        2 * (pixels + values),
        LOSS_BYTES_PER_OUTPUT * classes,
        0,
        new BackwardTransient(0, 0, 2 * whole16, mixed16).withLoss(lossBackward(classes)));
  }

  /**
   * Half-maps of the widest block's output that a CNN's backward pass holds beside the activations
   * per sample where its convolutions run over the whole micro-batch: 3 maps. Measured on a CPU in
   * FP32 (oneDNN): 2.9 maps, in a trace of resident memory phase by phase (docs/concepts/sizing.md,
   * "How close it is"); a GPU's cuDNN is not measured, and the model keeps the same 3.
   */
  static final long CONV_BACKWARD_HALF_MAPS_WHOLE = 6;

  /**
   * Half-maps as {@link #CONV_BACKWARD_HALF_MAPS_WHOLE}, where the trainer runs the convolutions
   * over pieces of 8 samples: 1.5 maps. The whole-batch convolution's own backward buffers (its
   * layout reorders) then exist for one piece at a time, which is not a per-sample cost; what is
   * left is autograd's gradients. Measured in FP16 mixed on a CPU: 1.5 maps in the phase trace, and
   * 1.65 from the slope between micro-batches 64 and 256 ({@code mpj bench memory}); in eager
   * PyTorch (FP32), convolutions over pieces of 8 brought backward's peak down to the forward's.
   */
  static final long CONV_BACKWARD_HALF_MAPS_PIECES = 3;

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
   * #LOSS_BYTES_PER_OUTPUT} per logit (s*V of them). Backward's peak is at the loss, beside all of
   * that ({@link #lossBackward}: with s*V of 4,096 or more, the loss is taken in pieces).
   */
  static Activations transformer(ModelSpec.Transformer t) {
    long s = t.sequenceLength;
    long h = t.hiddenSize;
    long a = t.heads;
    long v = t.vocabSize;
    boolean dropout = t.dropout > 0;
    long perLayer = (dropout ? 34 : 32) * s * h + (dropout ? 5 : 2) * a * s * s;
    long scaled16 = t.layers * perLayer + 2 * (2 * s * h);
    // The peak of backward is at the loss, while every activation is still held; by the time the
    // layers' backward runs, the log-softmax and the final LayerNorm's tensors are freed.
    return new Activations(scaled16, LOSS_BYTES_PER_OUTPUT * s * v, 0, lossBackward(s * v));
  }

  /**
   * Model state and update temporaries of {@code parameters} in {@code precision}, none of them
   * grouped: no activations, no reserve.
   */
  public static MemoryBreakdown modelState(
      long parameters, Precision precision, TrainingSpec.Optimizer optimizer) {
    return modelState(parameters, 0, precision, optimizer);
  }

  /**
   * Model state and update temporaries of {@code parameters} in {@code precision}, {@code
   * groupedElements} of them in groups of several small parameters ({@link
   * ModelParameters#groupedElements}): no activations, no reserve. The update temporaries count the
   * trainer's joined gradient of each such group ({@link #groupedGradientBytes}) beside the update
   * pieces.
   */
  public static MemoryBreakdown modelState(
      long parameters,
      long groupedElements,
      Precision precision,
      TrainingSpec.Optimizer optimizer) {
    return new MemoryBreakdown(
        parameters * weightBytesPerParameter(precision),
        parameters * masterWeightBytesPerParameter(precision),
        parameters * gradientBytesPerParameter(precision),
        parameters * optimizerBytesPerParameter(optimizer),
        updateTemporaryBytes(parameters, precision, optimizer)
            + groupedGradientBytes(groupedElements, precision),
        0,
        0);
  }

  /**
   * The joined gradients of the grouped small parameters: the trainer concatenates each group's
   * gradients into one working-precision array after backward, for the group's single norm and
   * fused update, and holds it through the update: {@code groupedElements} times the gradient's
   * bytes (2 in FP16 mixed, 4 in FP32).
   */
  public static long groupedGradientBytes(long groupedElements, Precision precision) {
    return groupedElements * gradientBytesPerParameter(precision);
  }

  /**
   * One replica at {@code microBatch} samples, with {@code overheadBytes} of reserve; {@code
   * groupedElements} of the parameters are grouped ({@link #modelState(long, long, Precision,
   * TrainingSpec.Optimizer)}).
   */
  public static MemoryBreakdown perReplica(
      long parameters,
      long groupedElements,
      TrainingSpec.Optimizer optimizer,
      Activations activations,
      Precision precision,
      int microBatch,
      long overheadBytes) {
    MemoryBreakdown state = modelState(parameters, groupedElements, precision, optimizer);
    return new MemoryBreakdown(
        state.weights(),
        state.masterWeights(),
        state.gradients(),
        state.optimizerState(),
        state.updateTemporaries(),
        activations.forMicroBatch(precision, microBatch),
        overheadBytes);
  }

  /**
   * What the training process of one replica of {@code spec} allocates on a GPU at {@code
   * microBatch} in {@code precision}, without any GPU reserve.
   */
  public static MemoryBreakdown perReplica(
      MixedPrecisionJobSpec spec, DataShape shape, Precision precision, int microBatch) {
    return perReplica(spec, shape, precision, microBatch, Device.GPU);
  }

  /**
   * What the training process of one replica of {@code spec} allocates on {@code device} at {@code
   * microBatch} in {@code precision}, without any GPU reserve: the figure to compare with a
   * measured peak.
   */
  public static MemoryBreakdown perReplica(
      MixedPrecisionJobSpec spec,
      DataShape shape,
      Precision precision,
      int microBatch,
      Device device) {
    long parameters = ModelParameters.count(spec.model, shape);
    return perReplica(
        parameters,
        ModelParameters.groupedElements(spec.model, shape),
        spec.training.optimizer,
        activations(spec.model, shape, device),
        precision,
        microBatch,
        0);
  }
}
