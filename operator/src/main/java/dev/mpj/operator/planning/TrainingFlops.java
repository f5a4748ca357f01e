package dev.mpj.operator.planning;

import dev.mpj.api.DataShape;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import java.util.List;

/**
 * Floating-point operations of training one sample (forward and backward pass), from the spec. A
 * multiply-add counts 2 FLOPs; the backward pass costs twice the forward (the gradients of the
 * inputs and of the weights), so training costs 6 FLOPs per multiply-add of the forward pass.
 *
 * <ul>
 *   <li>MLP and CNN: the exact multiply-adds of every Linear and convolution, on the shapes {@link
 *       ModelParameters} builds; biases, activations, BatchNorm and pooling are not counted (under
 *       1% of the total for the example models);
 *   <li>transformer: the usual 6 x parameters x tokens (Kaplan et al. 2020, "Scaling Laws for
 *       Neural Language Models"), with the embeddings counted; the attention scores (12 x layers x
 *       sequence x hidden per token) are left out, as that estimate leaves them out.
 * </ul>
 */
public final class TrainingFlops {

  /** FLOPs of training per multiply-add of the forward pass: 2 forward, 4 backward. */
  public static final long PER_MULTIPLY_ADD = 6;

  private TrainingFlops() {}

  /** Training FLOPs per sample of {@code model} on data of {@code shape} (complete for it). */
  public static double perSample(ModelSpec model, DataShape shape) {
    return switch (model.architecture) {
      case MLP ->
          PER_MULTIPLY_ADD
              * (double)
                  mlpMultiplyAdds(
                      model.mlp != null ? model.mlp : new ModelSpec.Mlp(),
                      shape.features(),
                      shape.outputs());
      case CNN ->
          PER_MULTIPLY_ADD
              * (double)
                  cnnMultiplyAdds(
                      model.cnn != null ? model.cnn : new ModelSpec.Cnn(),
                      shape.cnnInput(),
                      shape.outputs());
      case TRANSFORMER -> {
        ModelSpec.Transformer t =
            model.transformer != null ? model.transformer : new ModelSpec.Transformer();
        yield PER_MULTIPLY_ADD * (double) ModelParameters.transformer(t) * t.sequenceLength;
      }
    };
  }

  /** Forward multiply-adds of the MLP's Linears: the sum of in x out. */
  static long mlpMultiplyAdds(ModelSpec.Mlp mlp, long features, long outputs) {
    long total = 0;
    long previous = features;
    for (int hidden : mlp.hiddenSizes) {
      total += previous * hidden;
      previous = hidden;
    }
    return total + previous * outputs;
  }

  /**
   * Forward multiply-adds of the CNN: per convolution in x out x k x k x the output's height x
   * width (the stem at full resolution; the first block of each later stage halves height and
   * width, stride 2, padding 1, its 1x1 projection too), then the head's Linear.
   */
  static long cnnMultiplyAdds(ModelSpec.Cnn cnn, List<Integer> input, long classes) {
    long height = input.get(1);
    long width = input.get(2);
    long first = cnn.channels.get(0);
    long total = input.get(0) * first * 9 * height * width;
    long in = first;
    for (int stage = 0; stage < cnn.channels.size(); stage++) {
      long out = cnn.channels.get(stage);
      for (int block = 0; block < cnn.blocksPerStage; block++) {
        boolean strided = stage > 0 && block == 0;
        if (strided) {
          height = (height + 1) / 2;
          width = (width + 1) / 2;
        }
        long pixels = height * width;
        total += (in * out * 9 + out * out * 9) * pixels;
        if (in != out || strided) {
          total += in * out * pixels;
        }
        in = out;
      }
    }
    return total + in * classes;
  }
}
