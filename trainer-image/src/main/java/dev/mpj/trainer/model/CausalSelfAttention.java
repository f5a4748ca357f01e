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

/**
 * Multi-head self-attention over [B, L, H] where position i sees positions 0..i only. Of the {@code
 * heads x L x L} attention matrices, autograd keeps the softmax's output (and with dropout its mask
 * and output); the scores are scaled and masked in place and freed after the softmax. DJL 0.36 does
 * not reach libtorch's fused {@code scaled_dot_product_attention}, so the matrices are made.
 */
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
    NDArray q = project(query, store, inputs, training, params, batch, length, headSize);
    NDArray k = project(key, store, inputs, training, params, batch, length, headSize);
    NDArray kT = k.transpose(0, 1, 3, 2);
    NDArray scores = q.matMul(kT);
    // The matmul keeps contiguous copies of q and k for its backward: the projections' outputs go.
    Intermediates.release(q, k, kT);
    // In place: the matmul's backward does not need its output, and the arithmetic is the same as
    // dividing and adding into new tensors. Autograd then keeps the softmax's output only. The
    // divisor is a GraphScalar: autograd keeps the operand of a recorded division.
    try (NDArray divisor = GraphScalar.of(x.getManager(), (float) Math.sqrt(headSize))) {
      scores.divi(divisor);
    }
    try (NDArray mask32 = causalMask(x.getManager(), (int) length);
        NDArray mask = mask32.toType(scores.getDataType(), false)) {
      scores.addi(mask);
    }
    NDArray weights = scores.softmax(-1);
    Intermediates.release(scores);
    if (dropout > 0) {
      NDArray dropped = Dropout.dropout(weights, dropout, training).head();
      Intermediates.release(weights);
      weights = dropped;
    }
    NDArray v = project(value, store, inputs, training, params, batch, length, headSize);
    NDArray perHead = weights.matMul(v);
    Intermediates.release(weights, v);
    NDArray merged = perHead.transpose(0, 2, 1, 3);
    NDArray context = merged.reshape(batch, length, hidden);
    Intermediates.release(perHead, merged);
    NDList out = output.forward(store, new NDList(context), training, params);
    Intermediates.release(context);
    return out;
  }

  /** A projection split into heads, [B, heads, L, headSize]; the unsplit output is let go. */
  private NDArray project(
      Linear projection,
      ParameterStore store,
      NDList inputs,
      boolean training,
      PairList<String, Object> params,
      long batch,
      long length,
      int headSize) {
    NDArray projected = projection.forward(store, inputs, training, params).head();
    NDArray split = projected.reshape(batch, length, heads, headSize);
    NDArray heads4 = split.transpose(0, 2, 1, 3);
    Intermediates.release(projected, split);
    return heads4;
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
