package dev.mpj.operator.planning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingFlopsTest {

  @Test
  void theMlpCountsEveryLinearsMultiplyAdds() {
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.MLP;
    model.mlp = new ModelSpec.Mlp();
    model.mlp.hiddenSizes = List.of(1024, 512, 256);
    // 96*1024 + 1024*512 + 512*256 + 256*2 = 98,304 + 524,288 + 131,072 + 512 = 754,176
    assertThat(TrainingFlops.perSample(model, new DataShape(96, null, 2))).isEqualTo(6.0 * 754_176);
    // the multiply-adds are the parameters less the biases
    long biases = 1024 + 512 + 256 + 2;
    assertThat(754_176L).isEqualTo(ModelParameters.mlp(model.mlp, 96, 2) - biases);
  }

  @Test
  void theCnnCountsEachConvolutionAtItsOutputResolution() {
    ModelSpec.Cnn cnn = new ModelSpec.Cnn();
    cnn.channels = List.of(4, 8);
    cnn.blocksPerStage = 1;
    // stem 3->4 at 8x8: 3*4*9*64 = 6,912; stage 0 block 4->4 at 8x8: 2 * 4*4*9*64 = 18,432;
    // stage 1 block 4->8 strided to 4x4: (4*8*9 + 8*8*9) * 16 = 13,824, projection 4*8*16 = 512;
    // head 8 * 10 = 80
    long expected = 6_912 + 18_432 + 13_824 + 512 + 80;
    assertThat(TrainingFlops.cnnMultiplyAdds(cnn, List.of(3, 8, 8), 10)).isEqualTo(expected);
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.CNN;
    model.cnn = cnn;
    assertThat(TrainingFlops.perSample(model, new DataShape(192, List.of(3, 8, 8), 10)))
        .isEqualTo(6.0 * expected);
  }

  @Test
  void theTransformerIsSixTimesParametersTimesTokens() {
    ModelSpec model = new ModelSpec();
    model.architecture = ModelSpec.Architecture.TRANSFORMER;
    model.transformer = new ModelSpec.Transformer();
    model.transformer.layers = 12;
    model.transformer.hiddenSize = 768;
    model.transformer.heads = 12;
    model.transformer.vocabSize = 50257;
    model.transformer.sequenceLength = 1024;
    long parameters = ModelParameters.transformer(model.transformer);
    assertThat(TrainingFlops.perSample(model, new DataShape(null, null, null)))
        .isEqualTo(6.0 * parameters * 1024);
  }
}
