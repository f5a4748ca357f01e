package dev.mpj.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Exact number of trainable parameters of each built-in architecture, computed from the spec. The
 * trainer builds exactly these models, so it can assert the same count; the operator sizes memory
 * from it. BatchNorm running statistics are not trainable and not counted.
 */
public final class ModelParameters {
  /**
   * Elements below which the trainer groups a parameter with its neighbours (its {@code
   * ParameterGroups.CAPACITY}, which a trainer test holds equal to this), and the most a group
   * holds: a piece of Adam's fused update, which updates a group in one call.
   */
  public static final long GROUP_CAPACITY = UpdatePieces.FUSED_ELEMENTS;

  private ModelParameters() {}

  /** The count for a job whose data shape is fully stated in the spec (synthetic data). */
  public static long count(ModelSpec model, DataSpec data) {
    return count(model, DataShape.of(data));
  }

  /**
   * The count for {@code model} on data of {@code shape}.
   *
   * @throws IllegalArgumentException when the shape lacks what the architecture needs (see {@link
   *     DataShape#missingFor})
   */
  public static long count(ModelSpec model, DataShape shape) {
    List<String> missing = shape.missingFor(model);
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(
          "the "
              + model.architecture.name().toLowerCase()
              + " needs the data's "
              + String.join(" and ", missing));
    }
    return switch (model.architecture) {
      case MLP ->
          mlp(
              model.mlp != null ? model.mlp : new ModelSpec.Mlp(),
              shape.features(),
              shape.outputs());
      case CNN ->
          cnn(
              model.cnn != null ? model.cnn : new ModelSpec.Cnn(),
              shape.cnnInput().get(0),
              shape.outputs());
      case TRANSFORMER ->
          transformer(model.transformer != null ? model.transformer : new ModelSpec.Transformer());
    };
  }

  /** Input -> Linear(prev, h, bias) for each hidden size -> Linear(prev, outputs, bias). */
  public static long mlp(ModelSpec.Mlp mlp, long features, long outputs) {
    long total = 0;
    long previous = features;
    for (int hidden : mlp.hiddenSizes) {
      total += linear(previous, hidden);
      previous = hidden;
    }
    return total + linear(previous, outputs);
  }

  /**
   * Stem conv3x3(C -> ch0, no bias) + BN; per stage, residual blocks of conv3x3 + BN + conv3x3 + BN
   * with a conv1x1 + BN shortcut when the channels or the resolution change; head Linear(ch_last,
   * classes, bias) after global average pooling.
   */
  public static long cnn(ModelSpec.Cnn cnn, long inputChannels, long classes) {
    long first = cnn.channels.get(0);
    long total = conv(inputChannels, first, 3) + batchNorm(first);
    long in = first;
    for (int stage = 0; stage < cnn.channels.size(); stage++) {
      long out = cnn.channels.get(stage);
      for (int block = 0; block < cnn.blocksPerStage; block++) {
        boolean strided = stage > 0 && block == 0;
        total += conv(in, out, 3) + batchNorm(out) + conv(out, out, 3) + batchNorm(out);
        if (in != out || strided) {
          total += conv(in, out, 1) + batchNorm(out);
        }
        in = out;
      }
    }
    return total + linear(in, classes);
  }

  /**
   * Pre-norm decoder-only LM: token embedding V*H, position embedding S*H; per layer LayerNorm,
   * Q/K/V/O Linear(H, H, bias), LayerNorm, Linear(H, 4H, bias), Linear(4H, H, bias); final
   * LayerNorm; head Linear(H, V, bias).
   */
  public static long transformer(ModelSpec.Transformer t) {
    long h = t.hiddenSize;
    long v = t.vocabSize;
    long perLayer =
        layerNorm(h) + 4 * linear(h, h) + layerNorm(h) + linear(h, 4 * h) + linear(4 * h, h);
    return v * h + (long) t.sequenceLength * h + t.layers * perLayer + layerNorm(h) + linear(h, v);
  }

  /**
   * Elements of each trainable parameter tensor of {@code model} on data of {@code shape}, in the
   * order the trainer's block lists them (a Linear's weight then bias, a norm's scale then shift,
   * parent before children): what the trainer's parameter grouping plans over. Sums to {@link
   * #count(ModelSpec, DataShape)}.
   */
  public static long[] tensorSizes(ModelSpec model, DataShape shape) {
    count(model, shape); // the same check of the shape
    List<Long> sizes = new ArrayList<>();
    switch (model.architecture) {
      case MLP -> {
        ModelSpec.Mlp mlp = model.mlp != null ? model.mlp : new ModelSpec.Mlp();
        long previous = shape.features();
        for (int hidden : mlp.hiddenSizes) {
          addLinear(sizes, previous, hidden);
          previous = hidden;
        }
        addLinear(sizes, previous, shape.outputs());
      }
      case CNN -> {
        ModelSpec.Cnn cnn = model.cnn != null ? model.cnn : new ModelSpec.Cnn();
        long first = cnn.channels.get(0);
        sizes.add(conv(shape.cnnInput().get(0), first, 3));
        addNorm(sizes, first);
        long in = first;
        for (int stage = 0; stage < cnn.channels.size(); stage++) {
          long out = cnn.channels.get(stage);
          for (int block = 0; block < cnn.blocksPerStage; block++) {
            boolean strided = stage > 0 && block == 0;
            sizes.add(conv(in, out, 3));
            addNorm(sizes, out);
            sizes.add(conv(out, out, 3));
            addNorm(sizes, out);
            if (in != out || strided) {
              sizes.add(conv(in, out, 1));
              addNorm(sizes, out);
            }
            in = out;
          }
        }
        addLinear(sizes, in, shape.outputs());
      }
      case TRANSFORMER -> {
        ModelSpec.Transformer t =
            model.transformer != null ? model.transformer : new ModelSpec.Transformer();
        long h = t.hiddenSize;
        sizes.add((long) t.vocabSize * h);
        sizes.add((long) t.sequenceLength * h);
        for (int layer = 0; layer < t.layers; layer++) {
          addNorm(sizes, h);
          for (int projection = 0; projection < 4; projection++) {
            addLinear(sizes, h, h);
          }
          addNorm(sizes, h);
          addLinear(sizes, h, 4 * h);
          addLinear(sizes, 4 * h, h);
        }
        addNorm(sizes, h);
        addLinear(sizes, h, t.vocabSize);
      }
    }
    return sizes.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Elements held in groups of several parameters when parameters of {@code sizes} elements are
   * grouped as the trainer groups them: each of {@code capacity} elements or more alone, the
   * smaller ones in order into groups of at most {@code capacity} (a parameter that does not fit
   * into the open group starts the next one). The trainer joins the gradients of such a group into
   * one working-precision array for its update; a group of one parameter is used as it is.
   */
  public static long groupedElements(ModelSpec model, DataShape shape) {
    return groupedElements(tensorSizes(model, shape), GROUP_CAPACITY);
  }

  /** {@link #groupedElements(ModelSpec, DataShape)} of tensors of {@code sizes} elements. */
  public static long groupedElements(long[] sizes, long capacity) {
    long grouped = 0;
    long open = 0;
    int members = 0;
    for (long size : sizes) {
      if (size >= capacity) {
        continue;
      }
      if (open + size > capacity) {
        grouped += members > 1 ? open : 0;
        open = 0;
        members = 0;
      }
      open += size;
      members++;
    }
    return grouped + (members > 1 ? open : 0);
  }

  private static void addLinear(List<Long> sizes, long in, long out) {
    sizes.add(in * out);
    sizes.add(out);
  }

  private static void addNorm(List<Long> sizes, long channels) {
    sizes.add(channels);
    sizes.add(channels);
  }

  private static long linear(long in, long out) {
    return in * out + out;
  }

  private static long conv(long in, long out, long kernel) {
    return in * out * kernel * kernel;
  }

  private static long batchNorm(long channels) {
    return 2 * channels;
  }

  private static long layerNorm(long h) {
    return 2 * h;
  }
}
