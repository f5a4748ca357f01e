package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelParametersTest {

  @Test
  void mlpOfTheQuickstart() {
    // 32 features -> Linear(32,128): 32*128 + 128 = 4,224
    //             -> Linear(128,128): 128*128 + 128 = 16,512
    //             -> Linear(128,8):   128*8 + 8 = 1,032          total 21,768
    assertThat(
            ModelParameters.count(
                mlp(List.of(128, 128)), synthetic(DataSpec.Task.CLASSIFICATION, 32, 8)))
        .isEqualTo(21_768);
  }

  @Test
  void mlpForRegressionHasOneOutput() {
    // 784 -> 512: 784*512 + 512 = 401,920; 512 -> 256: 512*256 + 256 = 131,328
    // classification head 256 -> 10: 2,570 (total 535,818); regression head 256 -> 1: 257 (total
    // 533,505)
    assertThat(
            ModelParameters.count(
                mlp(List.of(512, 256)), synthetic(DataSpec.Task.CLASSIFICATION, 784, 10)))
        .isEqualTo(535_818);
    assertThat(
            ModelParameters.count(
                mlp(List.of(512, 256)), synthetic(DataSpec.Task.REGRESSION, 784, 10)))
        .isEqualTo(533_505);
  }

  @Test
  void mlpWithoutHiddenLayersIsOneLinear() {
    // 10 -> 3: 10*3 + 3 = 33
    assertThat(
            ModelParameters.count(mlp(List.of()), synthetic(DataSpec.Task.CLASSIFICATION, 10, 3)))
        .isEqualTo(33);
  }

  @Test
  void cnnWithAProjectionShortcut() {
    // input [1,8,8], channels [4,8], 1 block per stage, 10 classes
    // stem conv 3x3 1->4: 9*1*4 = 36, BN 2*4 = 8                          44
    // stage 0 block 0 (4->4, stride 1): 9*4*4 + 8 + 9*4*4 + 8 = 304
    // stage 1 block 0 (4->8, stride 2): 9*4*8 + 16 + 9*8*8 + 16 = 896,
    //   shortcut conv 1x1 4->8 + BN: 32 + 16 = 48                         944
    // head Linear(8,10): 80 + 10 = 90                            total 1,382
    ModelSpec model = cnn(List.of(4, 8), 1);
    DataSpec data = synthetic(DataSpec.Task.CLASSIFICATION, 64, 10);
    assertThat(ModelParameters.count(model, data)).isEqualTo(1_382);
    data.imageShape = List.of(1, 8, 8);
    assertThat(ModelParameters.count(model, data)).isEqualTo(1_382);
  }

  @Test
  void cnnWithThreeStagesOfTwoBlocks() {
    // input [3,7,7], channels [2,3,5], 2 blocks per stage, 4 classes
    // stem 9*3*2 + 2*2 = 58
    // stage 0: two blocks 2->2: 2 * (9*2*2 + 4 + 9*2*2 + 4) = 160
    // stage 1: block 0 2->3 stride 2: 9*2*3 + 6 + 9*3*3 + 6 = 147, shortcut 2*3 + 6 = 12  -> 159
    //          block 1 3->3: 81 + 6 + 81 + 6 = 174
    // stage 2: block 0 3->5 stride 2: 9*3*5 + 10 + 9*5*5 + 10 = 380, shortcut 15 + 10 = 25 -> 405
    //          block 1 5->5: 225 + 10 + 225 + 10 = 470
    // head 5*4 + 4 = 24                                          total 1,450
    DataSpec data = synthetic(DataSpec.Task.CLASSIFICATION, 147, 4);
    data.imageShape = List.of(3, 7, 7);
    assertThat(ModelParameters.count(cnn(List.of(2, 3, 5), 2), data)).isEqualTo(1_450);
  }

  @Test
  void cnnWithStrideTwoButEqualChannelsStillProjects() {
    // input [1,4,4], channels [2,2], 1 block: stem 18 + 4 = 22; stage 0: 36 + 4 + 36 + 4 = 80;
    // stage 1 (stride 2, 2->2): 80 + shortcut 2*2 + 4 = 8 -> 88; head 2*2 + 2 = 6     total 196
    assertThat(
            ModelParameters.count(
                cnn(List.of(2, 2), 1), synthetic(DataSpec.Task.CLASSIFICATION, 16, 2)))
        .isEqualTo(196);
  }

  @Test
  void transformerWithTheDefaults() {
    // V=256, H=128, S=64, L=2
    // embeddings 256*128 + 64*128 = 32,768 + 8,192
    // per layer 12*H^2 + 13*H = 196,608 + 1,664 = 198,272; two layers 396,544
    // final LayerNorm 256; head 128*256 + 256 = 33,024                 total 470,784
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.TRANSFORMER;
    model.transformer = new ModelSpec.Transformer();
    assertThat(ModelParameters.count(model, synthetic(DataSpec.Task.SEQUENCE, 64, 2)))
        .isEqualTo(470_784);
  }

  @Test
  void transformerOfGpt2SmallShapeMatchesItsPublishedCountPlusAnUntiedHead() {
    // GPT-2 small (L=12, H=768, 12 heads, V=50,257, S=1,024) has 124,439,808 parameters with the
    // head tied to the token embedding; this model unties it: + 768*50,257 weights + 50,257 biases.
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.TRANSFORMER;
    model.transformer = new ModelSpec.Transformer();
    model.transformer.layers = 12;
    model.transformer.hiddenSize = 768;
    model.transformer.heads = 12;
    model.transformer.vocabSize = 50_257;
    model.transformer.sequenceLength = 1_024;
    assertThat(ModelParameters.count(model, synthetic(DataSpec.Task.SEQUENCE, 64, 2)))
        .isEqualTo(124_439_808L + 768L * 50_257 + 50_257);
  }

  @Test
  void fileDataNeedsTheShapeGiven() {
    DataSpec csv = new DataSpec();
    csv.source = DataSpec.Source.CSV;
    csv.csv = new DataSpec.Csv();
    csv.csv.path = "/data/x.csv";
    ModelSpec model = mlp(List.of(16));
    assertThat(DataShape.of(csv).missingFor(model)).containsExactly("features", "classes");
    assertThatThrownBy(() -> ModelParameters.count(model, csv))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("features and classes");
    // 5 -> 16: 96; 16 -> 3: 51
    assertThat(ModelParameters.count(model, DataShape.of(csv).withFeatures(5).withOutputs(3)))
        .isEqualTo(147);
  }

  @Test
  void cnnInputIsSquareOnlyWhenTheFeaturesAre() {
    assertThat(new DataShape(49, null, 2).cnnInput()).containsExactly(1, 7, 7);
    assertThat(new DataShape(50, null, 2).cnnInput()).isNull();
    assertThat(new DataShape(50, null, 2).missingFor(cnn(List.of(4), 1)))
        .containsExactly("imageShape (50 features are not a square)");
  }

  @Test
  void smallParametersAreGroupedInOrderAndAGroupOfOneIsNotJoined() {
    // 10 opens a group; 70,000 is alone; 20 and 30 join: 60; 65,530 does not fit (60 + 65,530 >
    // 65,536) and opens the next group, 5 joins it: 65,535. Both groups hold several: 60 + 65,535
    assertThat(ModelParameters.groupedElements(new long[] {10, 70_000, 20, 30, 65_530, 5}, 65_536))
        .isEqualTo(65_595);
    // 60,000 and 10,000 do not fit together: two groups of one, nothing joined
    assertThat(ModelParameters.groupedElements(new long[] {60_000, 10_000}, 65_536)).isZero();
  }

  @Test
  void tensorSizesFollowTheTrainersBlocksAndSumToTheCount() {
    ModelSpec transformer = new ModelSpec();
    transformer.architecture = ModelSpec.Architecture.TRANSFORMER;
    transformer.transformer = new ModelSpec.Transformer();
    transformer.transformer.layers = 2;
    transformer.transformer.hiddenSize = 128;
    transformer.transformer.heads = 4;
    transformer.transformer.vocabSize = 256;
    transformer.transformer.sequenceLength = 128;
    DataShape sequence = DataShape.of(synthetic(DataSpec.Task.SEQUENCE, 64, 2));
    long[] sizes = ModelParameters.tensorSizes(transformer, sequence);
    // embeddings 256*128, 128*128; per layer 2 + 8 + 2 + 2 + 2 tensors; final norm 2, head 2
    assertThat(sizes).hasSize(2 + 2 * 16 + 4);
    assertThat(sizes).startsWith(32_768, 16_384, 128, 128, 16_384, 128);
    assertThat(sizes).endsWith(128, 128, 32_768, 256);
    assertThat(java.util.Arrays.stream(sizes).sum())
        .isEqualTo(ModelParameters.count(transformer, sequence));
    // every tensor but the two 512x128 MLP weights per layer is below 2^16 elements; in order they
    // pack into groups of 49,408, 49,536, 50,688, 34,176 and 33,024 elements, all of several
    assertThat(ModelParameters.groupedElements(transformer, sequence)).isEqualTo(216_832);

    ModelSpec cnn = cnn(List.of(4, 8), 1);
    DataShape images = new DataShape(147, List.of(3, 7, 7), 5);
    assertThat(java.util.Arrays.stream(ModelParameters.tensorSizes(cnn, images)).sum())
        .isEqualTo(ModelParameters.count(cnn, images));
    // one group of everything: stem 108 + 8, block 144 + 8 + 144 + 8, stage 2 288 + 16 + 576 +
    // 16 + 32 + 16, head 40 + 5
    assertThat(ModelParameters.groupedElements(cnn, images)).isEqualTo(1_409);
    // the quick-start MLP 32-128-128-8: 4,224 + 16,512 + 1,032, all in one group
    assertThat(
            ModelParameters.groupedElements(
                mlp(List.of(128, 128)),
                DataShape.of(synthetic(DataSpec.Task.CLASSIFICATION, 32, 8))))
        .isEqualTo(21_768);
  }

  static ModelSpec mlp(List<Integer> hidden) {
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.MLP;
    model.mlp = new ModelSpec.Mlp();
    model.mlp.hiddenSizes = hidden;
    return model;
  }

  static ModelSpec cnn(List<Integer> channels, int blocks) {
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.CNN;
    model.cnn = new ModelSpec.Cnn();
    model.cnn.channels = channels;
    model.cnn.blocksPerStage = blocks;
    return model;
  }

  static DataSpec synthetic(DataSpec.Task task, int features, int classes) {
    DataSpec data = new DataSpec();
    data.source = DataSpec.Source.SYNTHETIC;
    data.synthetic = new DataSpec.Synthetic();
    data.synthetic.task = task;
    data.synthetic.features = features;
    data.synthetic.classes = classes;
    return data;
  }
}
