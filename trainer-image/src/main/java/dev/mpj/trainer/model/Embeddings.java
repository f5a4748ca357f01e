package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * Token embedding (vocabulary x hidden) plus a learned position embedding (sequence length x
 * hidden).
 */
public final class Embeddings extends AbstractBlock {
  private final int hidden;
  private final Parameter tokens;
  private final Parameter positions;

  public Embeddings(int vocabulary, int sequenceLength, int hidden) {
    this.hidden = hidden;
    tokens =
        addParameter(
            Parameter.builder()
                .setName("tokenEmbedding")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(vocabulary, hidden))
                .optInitializer(new NormalInitializer(0.02f))
                .build());
    positions =
        addParameter(
            Parameter.builder()
                .setName("positionEmbedding")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(sequenceLength, hidden))
                .optInitializer(new NormalInitializer(0.02f))
                .build());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray ids = inputs.head();
    long length = ids.getShape().get(1);
    NDArray tokenTable = store.getValue(tokens, ids.getDevice(), training);
    NDArray positionTable = store.getValue(positions, ids.getDevice(), training);
    NDArray embedded = Embedding.embedding(ids, tokenTable, SparseFormat.DENSE).head();
    NDArray positionRows = positionTable.get(new NDIndex(":{}", length));
    NDArray sum = embedded.add(positionRows);
    // The embedding's backward needs the ids only: the looked-up rows go once added.
    Intermediates.release(embedded, positionRows);
    return new NDList(sum);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape ids = inputShapes[0];
    return new Shape[] {new Shape(ids.get(0), ids.get(1), hidden)};
  }
}
