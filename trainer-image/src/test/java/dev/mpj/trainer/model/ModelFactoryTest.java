package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import dev.mpj.api.ModelSpec;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.data.SyntheticData;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The built blocks have exactly the parameters of the architectures' written definitions. */
class ModelFactoryTest {

  private static long count(ModelSpec spec, Dataset data) {
    Block block = ModelFactory.build(spec, data);
    try (NDManager manager = NDManager.newBaseManager()) {
      block.initialize(manager, DataType.FLOAT32, ModelFactory.inputShape(data, 2));
      return ModelFactory.trainableParameters(block);
    }
  }

  @Test
  void mlp() {
    ModelSpec spec = new ModelSpec();
    spec.architecture = ModelSpec.Architecture.MLP;
    spec.mlp = new ModelSpec.Mlp();
    spec.mlp.hiddenSizes = List.of(20, 10);
    Dataset data = SyntheticData.classification(8, new int[] {7}, 3, 0);
    assertThat(count(spec, data)).isEqualTo((7 * 20 + 20) + (20 * 10 + 10) + (10 * 3 + 3));
  }

  @Test
  void cnn() {
    ModelSpec spec = new ModelSpec();
    spec.architecture = ModelSpec.Architecture.CNN;
    spec.cnn = new ModelSpec.Cnn();
    spec.cnn.channels = List.of(4, 8);
    spec.cnn.blocksPerStage = 2;
    Dataset data = SyntheticData.classification(8, new int[] {3, 8, 8}, 5, 0);
    long stem = 9L * 3 * 4 + 2 * 4;
    long stage1 = 2 * (9L * 4 * 4 + 2 * 4 + 9L * 4 * 4 + 2 * 4);
    long stage2First = 9L * 4 * 8 + 2 * 8 + 9L * 8 * 8 + 2 * 8 + (4L * 8 + 2 * 8);
    long stage2Second = 9L * 8 * 8 + 2 * 8 + 9L * 8 * 8 + 2 * 8;
    long head = 8L * 5 + 5;
    assertThat(count(spec, data)).isEqualTo(stem + stage1 + stage2First + stage2Second + head);
  }

  @Test
  void transformer() {
    ModelSpec spec = new ModelSpec();
    spec.architecture = ModelSpec.Architecture.TRANSFORMER;
    spec.transformer = new ModelSpec.Transformer();
    int layers = 2;
    int h = 12;
    int v = 10;
    int s = 6;
    spec.transformer.layers = layers;
    spec.transformer.hiddenSize = h;
    spec.transformer.heads = 3;
    spec.transformer.vocabSize = v;
    spec.transformer.sequenceLength = s;
    Dataset data = SyntheticData.sequences(4, s, v, 0);
    long perLayer = 2L * (2 * h) + 4L * (h * h + h) + (h * 4L * h + 4 * h) + (4L * h * h + h);
    long expected = (long) v * h + (long) s * h + layers * perLayer + 2L * h + ((long) h * v + v);
    assertThat(count(spec, data)).isEqualTo(expected);
  }
}
