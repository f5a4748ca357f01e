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

/**
 * Pre-norm decoder layer: x + attention(LN(x)), then x + MLP(LN(x)) with a 4H GELU MLP. The
 * attention's and the MLP's outputs are freed once added to the residual stream; autograd keeps the
 * layer norms' inputs and outputs, the MLP's hidden values before and after GELU.
 */
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
    NDList normed = attentionNorm.forward(store, inputs, training, params);
    NDArray a = attention.forward(store, normed, training, params).head();
    NDArray dropped = drop(a, training);
    NDArray x1 = x.add(dropped);
    // Autograd keeps the normalised input (the projections' input), not the attention's output.
    Intermediates.release(a, dropped == a ? null : dropped, normed.head());
    NDList normed1 = mlpNorm.forward(store, new NDList(x1), training, params);
    NDArray h = expand.forward(store, normed1, training, params).head();
    NDArray activated = Activation.gelu(h);
    NDArray m = project.forward(store, new NDList(activated), training, params).head();
    NDArray m1 = drop(m, training);
    NDArray out = x1.add(m1);
    // Handles only: autograd keeps these for the backward pass (in inference they go here).
    Intermediates.release(normed1.head(), h, activated);
    Intermediates.release(m, m1 == m ? null : m1);
    return new NDList(out);
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
