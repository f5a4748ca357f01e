package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Pre-norm decoder layer: x + attention(LN(x)), then x + MLP(LN(x)) with a 4H GELU MLP. */
public final class TransformerLayer extends AbstractBlock {
  private final float dropout;
  private final LayerNorm attentionNorm;
  private final CausalSelfAttention attention;
  private final LayerNorm mlpNorm;
  private final Linear expand;
  private final Linear project;

  public TransformerLayer(int hidden, int heads, float dropout) {
    this.dropout = dropout;
    attentionNorm = addChildBlock("attentionNorm", layerNorm());
    attention = addChildBlock("attention", new CausalSelfAttention(hidden, heads, dropout));
    mlpNorm = addChildBlock("mlpNorm", layerNorm());
    expand = addChildBlock("expand", CausalSelfAttention.linear(4 * hidden));
    project = addChildBlock("project", CausalSelfAttention.linear(hidden));
  }

  static LayerNorm layerNorm() {
    return LayerNorm.builder().axis(2).build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();
    NDArray a =
        attention
            .forward(
                store, attentionNorm.forward(store, inputs, training, params), training, params)
            .head();
    x = x.add(drop(a, training));
    NDArray h =
        expand
            .forward(
                store, mlpNorm.forward(store, new NDList(x), training, params), training, params)
            .head();
    NDArray m = project.forward(store, new NDList(Activation.gelu(h)), training, params).head();
    return new NDList(x.add(drop(m, training)));
  }

  private NDArray drop(NDArray x, boolean training) {
    return dropout > 0 ? Dropout.dropout(x, dropout, training).head() : x;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    attentionNorm.initialize(manager, dataType, inputShapes);
    attention.initialize(manager, dataType, inputShapes);
    mlpNorm.initialize(manager, dataType, inputShapes);
    expand.initialize(manager, dataType, inputShapes);
    project.initialize(manager, dataType, expand.getOutputShapes(inputShapes));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
