package dev.mpj.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Runs an FP16 convolution on a CPU over pieces of {@link #SAMPLES} samples of the batch.
 *
 * <p>libtorch 2.7 has no FP16 convolution kernel on a CPU without AVX512-FP16 (oneDNN takes FP32
 * there), so an FP16 convolution falls back to libtorch's slow path, which unfolds the whole
 * batch's input into columns (kernel height x width x input channels per output position: 9 times
 * the input for a 3x3 convolution) in the forward pass and again, with the columns' gradient, in
 * the backward pass. Over pieces those buffers hold one piece's samples, whatever the micro-batch:
 * the CNN's step of 256 samples in FP16 mixed peaks 48 MiB lower (see docs/concepts/sizing.md), at
 * the same speed (the slow path runs sample by sample anyway).
 *
 * <p>Each sample's output and input gradient are computed exactly as in one piece (bit for bit);
 * the weight's gradient is the same sum over the samples, in another order (the pieces' sums are
 * added by autograd), so it may differ in the last FP16 bits. On a GPU (cuDNN runs FP16 natively)
 * and in FP32, a convolution runs over the whole batch.
 */
public final class ConvolutionPieces {
  /** Samples per piece. */
  public static final int SAMPLES = 8;

  private ConvolutionPieces() {}

  /** Samples per piece for this input: {@link #SAMPLES} for FP16 on a CPU, else the batch. */
  static long samplesPerPiece(NDArray input) {
    boolean slowPath =
        input.getDataType() == DataType.FLOAT16
            && Device.Type.CPU.equals(input.getDevice().getDeviceType());
    return slowPath ? SAMPLES : input.getShape().get(0);
  }

  /**
   * {@code convolution}'s output for {@code inputs}, computed over pieces of {@code samples}
   * samples and joined along the batch; the pieces and their outputs are freed once joined.
   */
  static NDList forward(
      Block convolution,
      ParameterStore store,
      NDList inputs,
      boolean training,
      PairList<String, Object> params,
      long samples) {
    NDArray x = inputs.head();
    long batch = x.getShape().get(0);
    if (samples < 1) {
      throw new IllegalArgumentException("samples per piece must be at least 1, not " + samples);
    }
    if (batch <= samples) {
      return convolution.forward(store, inputs, training, params);
    }
    long[] starts = new long[(int) ((batch - 1) / samples)];
    for (int i = 0; i < starts.length; i++) {
      starts[i] = (i + 1) * samples;
    }
    NDList pieces = x.split(starts, 0);
    NDList outputs = new NDList(pieces.size());
    for (NDArray piece : pieces) {
      outputs.add(convolution.forward(store, new NDList(piece), training, params).head());
    }
    NDArray joined = NDArrays.concat(outputs, 0);
    for (int i = 0; i < pieces.size(); i++) {
      Intermediates.release(outputs.get(i), pieces.get(i));
    }
    return new NDList(joined);
  }
}
