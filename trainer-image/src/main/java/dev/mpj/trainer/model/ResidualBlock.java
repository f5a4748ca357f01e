package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * conv3x3(stride) + BN + relu + conv3x3 + BN, plus a shortcut (identity, or conv1x1(stride) + BN
 * when the channels or the resolution change), then relu. The second BatchNorm's output, the
 * shortcut's and the sum are freed once consumed (autograd keeps none of them: the sum's ReLU keeps
 * its output).
 */
public final class ResidualBlock extends AbstractBlock {
  private final Block body;
  private final Block shortcut;

  public ResidualBlock(int in, int out, int stride) {
    body =
        addChildBlock(
            "body",
            new LeanSequentialBlock()
                .add(conv(out, 3, stride, 1))
                .add(new BatchNorm2d(out))
                .add(Activation::relu)
                .add(conv(out, 3, 1, 1))
                .add(new BatchNorm2d(out)));
    shortcut =
        in == out && stride == 1
            ? null
            : addChildBlock(
                "shortcut",
                new LeanSequentialBlock().add(conv(out, 1, stride, 0)).add(new BatchNorm2d(out)));
  }

  static Conv2d conv(int filters, int kernel, int stride, int padding) {
    return Conv2d.builder()
        .setFilters(filters)
        .setKernelShape(new Shape(kernel, kernel))
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(padding, padding))
        .optBias(false)
        .build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();
    NDArray main = body.forward(store, inputs, training, params).head();
    NDArray side = shortcut == null ? x : shortcut.forward(store, inputs, training, params).head();
    NDArray sum = main.add(side);
    Intermediates.release(main, side == x ? null : side);
    NDArray out = Activation.relu(sum);
    Intermediates.release(sum);
    return new NDList(out);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    body.initialize(manager, dataType, inputShapes);
    if (shortcut != null) {
      shortcut.initialize(manager, dataType, inputShapes);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return body.getOutputShapes(inputShapes);
  }
}
