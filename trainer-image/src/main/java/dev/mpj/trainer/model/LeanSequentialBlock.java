package dev.mpj.trainer.model;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * DJL's {@link SequentialBlock} (same children, names and parameters) whose forward pass frees each
 * child's output once the next child has consumed it ({@link Intermediates}); what autograd saved
 * for the backward pass stays alive, the rest goes. The block's own input is never freed. A
 * convolution child runs over pieces of the batch where libtorch would unfold the whole batch
 * ({@link ConvolutionPieces}).
 */
public class LeanSequentialBlock extends SequentialBlock {

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList current = inputs;
    for (Block child : getChildren().values()) {
      NDList next = forwardChild(child, store, current, training, params);
      if (current != inputs) {
        Intermediates.releaseConsumed(current, inputs, next);
      }
      current = next;
    }
    return current;
  }

  private static NDList forwardChild(
      Block child,
      ParameterStore store,
      NDList in,
      boolean training,
      PairList<String, Object> params) {
    if (child instanceof Convolution) {
      long samples = ConvolutionPieces.samplesPerPiece(in.head());
      return ConvolutionPieces.forward(child, store, in, training, params, samples);
    }
    return child.forward(store, in, training, params);
  }
}
