package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An FP16 convolution over pieces of the batch against the same convolution over the whole batch on
 * the CPU: the output and the input's gradient bit for bit (libtorch's slow path computes every
 * sample alike), the weight's gradient the same sum in another order (within 1% of its largest
 * value). FP32 never runs in pieces (oneDNN picks its algorithm by batch size, so its output would
 * not be bit-identical).
 */
class ConvolutionPiecesTest {

  @Test
  void fp16OnTheCpuRunsInPiecesAndFp32Whole() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray fp16 = manager.zeros(new Shape(20, 2, 4, 4), DataType.FLOAT16);
      NDArray fp32 = manager.zeros(new Shape(20, 2, 4, 4), DataType.FLOAT32);
      assertThat(ConvolutionPieces.samplesPerPiece(fp16)).isEqualTo(ConvolutionPieces.SAMPLES);
      assertThat(ConvolutionPieces.samplesPerPiece(fp32)).isEqualTo(20);
    }
  }

  @ParameterizedTest(name = "{0}, batch {1} in pieces of {2}, stride {3}")
  @CsvSource({"FLOAT16, 20, 8, 1", "FLOAT16, 16, 8, 2", "FLOAT16, 5, 1, 1", "FLOAT16, 7, 3, 2"})
  void piecesGiveTheWholeBatchsOutputAndGradients(
      DataType type, int batch, int samples, int stride) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(11);
      Shape shape = new Shape(batch, 3, 9, 9);
      Block conv = ResidualBlock.conv(5, 3, stride, 1);
      conv.initialize(manager, type, shape);
      NDArray x = manager.randomNormal(0, 1, shape, DataType.FLOAT32).toType(type, false);
      Shape out = conv.getOutputShapes(new Shape[] {shape})[0];
      NDArray upstream = manager.randomNormal(0, 1, out, DataType.FLOAT32).toType(type, false);

      Result whole = run(manager, conv, x, upstream, batch);
      Result pieces = run(manager, conv, x, upstream, samples);

      assertThat(pieces.output).containsExactly(whole.output);
      assertThat(pieces.inputGradient).containsExactly(whole.inputGradient);
      float largest = 0;
      for (float g : whole.weightGradient) {
        largest = Math.max(largest, Math.abs(g));
      }
      // FP16 keeps 11 significant bits: the sums agree to a few units of 2^-10 of the largest.
      double tolerance = largest * 1e-2;
      assertThat(pieces.weightGradient).hasSameSizeAs(whole.weightGradient);
      for (int i = 0; i < whole.weightGradient.length; i++) {
        assertThat(pieces.weightGradient[i])
            .as("weight gradient %d", i)
            .isCloseTo(whole.weightGradient[i], within((float) tolerance));
      }
    }
  }

  @Test
  void refusesPiecesOfNoSamples() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Block conv = ResidualBlock.conv(2, 3, 1, 1);
      Shape shape = new Shape(4, 1, 4, 4);
      conv.initialize(manager, DataType.FLOAT32, shape);
      NDList in = new NDList(manager.zeros(shape));
      assertThatThrownBy(
              () ->
                  ConvolutionPieces.forward(
                      conv, new ParameterStore(manager, false), in, false, null, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("at least 1");
    }
  }

  private record Result(float[] output, float[] inputGradient, float[] weightGradient) {}

  private static Result run(
      NDManager manager, Block conv, NDArray x, NDArray upstream, long samples) {
    NDArray input = x.duplicate();
    input.setRequiresGradient(true);
    NDArray weight = conv.getParameters().get("weight").getArray();
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      collector.zeroGradients();
      NDArray y =
          ConvolutionPieces.forward(
                  conv, new ParameterStore(manager, false), new NDList(input), true, null, samples)
              .head();
      collector.backward(y.mul(upstream).sum());
      return new Result(fp32(y), fp32(input.getGradient()), fp32(weight.getGradient()));
    }
  }

  private static float[] fp32(NDArray array) {
    return array.toType(DataType.FLOAT32, false).toFloatArray();
  }
}
