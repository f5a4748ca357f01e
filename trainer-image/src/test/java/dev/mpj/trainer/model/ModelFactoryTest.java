package dev.mpj.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.mpj.api.DataShape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.data.SyntheticData;
import dev.mpj.trainer.optim.ParameterGroups;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The built blocks have exactly the parameters of the architectures' written definitions. */
class ModelFactoryTest {

  /** The trainable parameters' element counts of the block built for {@code spec}, in order. */
  private static long[] tensorSizes(ModelSpec spec, Dataset data) {
    Block block = ModelFactory.build(spec, data);
    try (NDManager manager = NDManager.newBaseManager()) {
      block.initialize(manager, DataType.FLOAT32, ModelFactory.inputShape(data, 2));
      return block.getParameters().values().stream()
          .filter(Parameter::requiresGradient)
          .mapToLong(p -> p.getShape().size())
          .toArray();
    }
  }

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

  /**
   * What sizing counts ({@link ModelParameters#count}, from the spec alone) is what the trainer
   * builds from the same spec and its data: every architecture, at several shapes.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        """
        model: {architecture: mlp, mlp: {hiddenSizes: [20, 10]}}
        data: {source: synthetic, synthetic: {samples: 16, features: 7, classes: 3}}
        """,
        """
        model: {architecture: mlp, mlp: {hiddenSizes: [16, 8, 4]}}
        data: {source: synthetic, synthetic: {task: regression, samples: 16, features: 12}}
        """,
        """
        model: {architecture: mlp, mlp: {hiddenSizes: [33]}}
        data: {source: synthetic, synthetic: {samples: 16, features: 100, classes: 17}}
        """,
        """
        model: {architecture: cnn, cnn: {channels: [4, 8], blocksPerStage: 2}}
        data: {source: synthetic, imageShape: [3, 8, 8], synthetic: {samples: 8, features: 192, classes: 5}}
        """,
        """
        model: {architecture: cnn, cnn: {channels: [6], blocksPerStage: 1}}
        data: {source: synthetic, synthetic: {samples: 8, features: 64, classes: 4}}
        """,
        """
        model: {architecture: cnn, cnn: {channels: [4, 8, 16], blocksPerStage: 1}}
        data: {source: synthetic, imageShape: [2, 12, 12], synthetic: {samples: 8, features: 288, classes: 3}}
        """,
        """
        model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 12, heads: 3, vocabSize: 10, sequenceLength: 6}}
        data: {source: synthetic, synthetic: {task: sequence, samples: 8}}
        """,
        """
        model: {architecture: transformer, transformer: {layers: 1, hiddenSize: 16, heads: 4, vocabSize: 32, sequenceLength: 8}}
        data: {source: synthetic, synthetic: {task: sequence, samples: 8}}
        """,
        """
        model: {architecture: transformer, transformer: {layers: 3, hiddenSize: 8, heads: 2, vocabSize: 5, sequenceLength: 4}}
        data: {source: synthetic, synthetic: {task: sequence, samples: 8}}
        """,
        """
        model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 128}}
        data: {source: synthetic, synthetic: {task: sequence, samples: 8}}
        """,
        """
        model: {architecture: mlp, mlp: {hiddenSizes: [256, 256, 200]}}
        data: {source: synthetic, synthetic: {samples: 16, features: 256, classes: 10}}
        """
      })
  void sizingCountsTheParametersOfTheBuiltModel(String modelAndData) {
    MixedPrecisionJob job =
        JobFiles.parse(
            """
            apiVersion: mpj.dev/v1alpha1
            kind: MixedPrecisionJob
            metadata: {name: count}
            spec:
              precision: fp32
              training: {globalBatchSize: 4, steps: 1}
            %s"""
                .formatted(modelAndData.indent(2)));
    assertThat(SpecValidator.validate(job)).isEmpty();
    ModelSpec model = job.getSpec().model;
    Dataset data = DataSource.load(job.getSpec());
    assertThat(count(model, data)).isEqualTo(ModelParameters.count(model, job.getSpec().data));
    // The tensors sizing plans the grouping over are the built model's, in order, and the elements
    // it counts as grouped are those the trainer's grouping joins (groups of several parameters).
    DataShape shape = DataShape.of(job.getSpec().data);
    long[] built = tensorSizes(model, data);
    assertThat(ModelParameters.tensorSizes(model, shape)).containsExactly(built);
    ParameterGroups groups = ParameterGroups.plan(built, ParameterGroups.CAPACITY);
    long joined = 0;
    for (int g = 0; g < groups.count(); g++) {
      joined += groups.isFlat(g) ? groups.elements(g) : 0;
    }
    assertThat(ModelParameters.groupedElements(model, shape)).isEqualTo(joined);
  }

  @Test
  void sizingGroupsWithTheTrainersCapacity() {
    assertThat(ModelParameters.GROUP_CAPACITY).isEqualTo(ParameterGroups.CAPACITY);
  }
}
