package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Multi-head self-attention over [B, L, H] where position i sees positions 0..i only. */
public final class CausalSelfAttention extends AbstractBlock {
  private final int heads;
  private final int hidden;
  private final float dropout;
  private final Linear query;
  private final Linear key;
  private final Linear value;
  private final Linear output;

  public CausalSelfAttention(int hidden, int heads, float dropout) {
    this.hidden = hidden;
    this.heads = heads;
    this.dropout = dropout;
    query = addChildBlock("query", linear(hidden));
    key = addChildBlock("key", linear(hidden));
    value = addChildBlock("value", linear(hidden));
    output = addChildBlock("output", linear(hidden));
  }

  static Linear linear(int units) {
    return Linear.builder().setUnits(units).optBias(true).build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();
    long batch = x.getShape().get(0);
    long length = x.getShape().get(1);
    int headSize = hidden / heads;
    NDArray q =
        split(query.forward(store, inputs, training, params).head(), batch, length, headSize);
    NDArray k = split(key.forward(store, inputs, training, params).head(), batch, length, headSize);
    NDArray v =
        split(value.forward(store, inputs, training, params).head(), batch, length, headSize);
    NDArray scores =
        q.matMul(k.transpose(0, 1, 3, 2))
            .div(GraphScalar.of(x.getManager(), (float) Math.sqrt(headSize)));
    NDArray mask = causalMask(x.getManager(), (int) length).toType(scores.getDataType(), false);
    NDArray weights = scores.add(mask).softmax(-1);
    if (dropout > 0) {
      weights = Dropout.dropout(weights, dropout, training).head();
    }
    NDArray context = weights.matMul(v).transpose(0, 2, 1, 3).reshape(batch, length, hidden);
    return output.forward(store, new NDList(context), training, params);
  }

  /**
   * 0 on and below the diagonal, -inf above: softmax gives future positions exactly zero weight.
   */
  static NDArray causalMask(NDManager manager, int length) {
    float[] mask = new float[length * length];
    for (int i = 0; i < length; i++) {
      for (int j = i + 1; j < length; j++) {
        mask[i * length + j] = Float.NEGATIVE_INFINITY;
      }
    }
    return manager.create(mask, new Shape(length, length));
  }

  private NDArray split(NDArray projected, long batch, long length, int headSize) {
    return projected.reshape(batch, length, heads, headSize).transpose(0, 2, 1, 3);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    for (Linear l : new Linear[] {query, key, value, output}) {
      l.initialize(manager, dataType, inputShapes);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
