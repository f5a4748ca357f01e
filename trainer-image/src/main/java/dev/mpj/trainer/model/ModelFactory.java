package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.data.Dataset;
import java.util.List;
import java.util.function.Function;

/**
 * Builds the DJL block of a job's model for the shape of its data. The architectures are defined
 * exactly (the operator's sizing counts parameters from the same definitions):
 *
 * <ul>
 *   <li>mlp: flatten, then per hidden size Linear(prev, h, bias) + activation (+ dropout), then
 *       Linear(prev, outputs, bias); outputs = classes, or 1 for regression.
 *   <li>cnn: stem conv3x3(C, ch0, no bias) + BN + relu; per stage {@code blocksPerStage} {@link
 *       ResidualBlock}s, stride 2 in the first block of every stage after the first; global average
 *       pool; Linear(ch_last, classes, bias).
 *   <li>transformer: {@link Embeddings}, {@code layers} x {@link TransformerLayer}, LayerNorm(H),
 *       Linear(H, V, bias) (not tied to the embedding).
 * </ul>
 */
public final class ModelFactory {
  private ModelFactory() {}

  /** Refuses a model that cannot take this data, naming the field to change. */
  public static void check(ModelSpec model, Dataset data) {
    switch (model.architecture) {
      case CNN -> {
        if (data.sampleShape().length != 3) {
          throw new InvalidJobException(
              "spec.data.imageShape", "the cnn needs [channels, height, width] samples");
        }
      }
      case TRANSFORMER -> {
        ModelSpec.Transformer t = transformer(model);
        int length = data.sampleShape()[0];
        if (length > t.sequenceLength) {
          throw new InvalidJobException(
              "spec.model.transformer.sequenceLength",
              "is "
                  + t.sequenceLength
                  + ", shorter than the data's sequences of "
                  + length
                  + " tokens");
        }
        float largest = 0;
        for (float v : data.inputs()) {
          largest = Math.max(largest, v);
        }
        for (float v : data.targets()) {
          largest = Math.max(largest, v);
        }
        if (largest >= t.vocabSize) {
          throw new InvalidJobException(
              "spec.model.transformer.vocabSize",
              "is "
                  + t.vocabSize
                  + " but the data has token id "
                  + (long) largest
                  + "; it must exceed every token id");
        }
      }
      case MLP -> {}
    }
  }

  /** The model, not yet initialised. */
  public static Block build(ModelSpec model, Dataset data) {
    int outputs = data.kind() == Dataset.Kind.REGRESSION ? 1 : data.classes();
    return switch (model.architecture) {
      case MLP -> mlp(model.mlp != null ? model.mlp : new ModelSpec.Mlp(), outputs);
      case CNN ->
          cnn(model.cnn != null ? model.cnn : new ModelSpec.Cnn(), data.sampleShape()[0], outputs);
      case TRANSFORMER -> transformer(transformer(model));
    };
  }

  /** Shape of a batch of {@code batch} inputs, as the block is initialised with. */
  public static Shape inputShape(Dataset data, int batch) {
    long[] shape = new long[data.sampleShape().length + 1];
    shape[0] = batch;
    for (int i = 0; i < data.sampleShape().length; i++) {
      shape[i + 1] = data.sampleShape()[i];
    }
    return new Shape(shape);
  }

  /** Parameters that take gradients (BatchNorm running statistics are not counted). */
  public static long trainableParameters(Block block) {
    long total = 0;
    for (Parameter p : block.getParameters().values()) {
      if (p.requiresGradient()) {
        total += p.getShape().size();
      }
    }
    return total;
  }

  private static Block mlp(ModelSpec.Mlp spec, int outputs) {
    SequentialBlock block = new LeanSequentialBlock().add(Blocks.batchFlattenBlock());
    for (int hidden : spec.hiddenSizes) {
      block.add(Linear.builder().setUnits(hidden).optBias(true).build());
      block.add(activation(spec.activation));
      if (spec.dropout > 0) {
        block.add(Dropout.builder().optRate((float) spec.dropout).build());
      }
    }
    return block.add(Linear.builder().setUnits(outputs).optBias(true).build());
  }

  private static Block cnn(ModelSpec.Cnn spec, int inputChannels, int classes) {
    List<Integer> channels = spec.channels;
    SequentialBlock block =
        new LeanSequentialBlock()
            .add(ResidualBlock.conv(channels.get(0), 3, 1, 1))
            .add(new BatchNorm2d(channels.get(0)))
            .add(Activation::relu);
    int in = channels.get(0);
    for (int stage = 0; stage < channels.size(); stage++) {
      int out = channels.get(stage);
      for (int b = 0; b < spec.blocksPerStage; b++) {
        int stride = stage > 0 && b == 0 ? 2 : 1;
        block.add(new ResidualBlock(in, out, stride));
        in = out;
      }
    }
    return block
        .add(
            (Function<NDList, NDList>)
                x -> {
                  NDArray rows = x.head().mean(new int[] {3});
                  NDArray pooled = rows.mean(new int[] {2});
                  Intermediates.release(rows);
                  return new NDList(pooled);
                })
        .add(Linear.builder().setUnits(classes).optBias(true).build());
  }

  private static Block transformer(ModelSpec.Transformer t) {
    SequentialBlock block =
        new LeanSequentialBlock().add(new Embeddings(t.vocabSize, t.sequenceLength, t.hiddenSize));
    for (int i = 0; i < t.layers; i++) {
      block.add(new TransformerLayer(t.hiddenSize, t.heads, (float) t.dropout));
    }
    return block
        .add(TransformerLayer.layerNorm())
        .add(Linear.builder().setUnits(t.vocabSize).optBias(true).build());
  }

  private static ModelSpec.Transformer transformer(ModelSpec model) {
    return model.transformer != null ? model.transformer : new ModelSpec.Transformer();
  }

  private static Function<NDList, NDList> activation(ModelSpec.Activation activation) {
    Function<NDArray, NDArray> f =
        switch (activation) {
          case RELU -> Activation::relu;
          case GELU -> Activation::gelu;
          case TANH -> Activation::tanh;
        };
    return x -> new NDList(f.apply(x.head()));
  }
}
