package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingSpec;
import org.junit.jupiter.api.Test;

class MemoryModelTest {

  @Test
  void modelStatePerParameterInEachPrecisionAndOptimizer() {
    TrainingSpec.Optimizer adam = new TrainingSpec.Optimizer();
    // FP32 with Adam: 4 weights + 4 gradients + 8 moments = 16 bytes per parameter
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, adam))
        .isEqualTo(new MemoryBreakdown(4_000, 0, 4_000, 8_000, 0, 0));
    // FP16 mixed with Adam: 2 FP16 weights + 4 FP32 master + 2 FP16 gradients + 8 moments = 16 as well
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, adam))
        .isEqualTo(new MemoryBreakdown(2_000, 4_000, 2_000, 8_000, 0, 0));

    TrainingSpec.Optimizer sgd = new TrainingSpec.Optimizer();
    sgd.type = TrainingSpec.OptimizerType.SGD;
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).optimizerState()).isZero();
    sgd.momentum = 0.9;
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).optimizerState()).isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).modelState()).isEqualTo(12_000);
  }

  @Test
  void mlpActivations() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // F=32, hidden [128,128], 8 classes
    // scaled at 16 bits: per hidden layer Linear out + ReLU out = 2*128 values, logits 8:
    //   2 bytes * (2*128 + 2*128 + 8) = 1,040
    // fixed: FP32 input 4*32 = 128, FP32 log-softmax 4*8 = 32 -> 160
    // cast (mixed only): FP16 input 2*32 = 64, FP32 copy of the logits 4*8 = 32 -> 96
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(1_040, 160, 96));
    assertThat(a.perSample(Precision.FP32)).isEqualTo(2 * 1_040 + 160); // 2,240
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(1_040 + 160 + 96); // 1,296
  }

  @Test
  void mlpDropoutAddsItsOutputAndAOneByteMask() {
    MixedPrecisionJobSpec spec = mlpSpec("dropout: 0.1");
    // scaled: 2 * (512 + dropout outputs 256 + 8) = 1,552; fixed: 160 + masks 256 bytes = 416
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(new MemoryModel.Activations(1_552, 416, 96));
  }

  @Test
  void cnnActivationsFollowTheResolution() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: cnn, cnn: {channels: [4, 8], blocksPerStage: 1}}
            data: {source: synthetic, synthetic: {features: 64, classes: 10}, imageShape: [1, 8, 8]}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // stem at 8x8: conv, BN, ReLU = 3 * 4 * 64                        = 768
    // stage 0 block (4->4) at 8x8: 7 tensors * 4 * 64                 = 1,792
    // stage 1 block (4->8, stride 2) at 4x4: 9 tensors * 8 * 16       = 1,152
    // pooled 8 + logits 10                                            = 18
    // 3,730 values at 2 bytes = 7,460 scaled
    // fixed: FP32 input 4 * 64 + log-softmax 4 * 10 = 296; cast: 2 * 64 + 4 * 10 = 168
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(7_460, 296, 168));
    assertThat(a.perSample(Precision.FP32)).isEqualTo(15_216);
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(7_924);
  }

  @Test
  void cnnHalvesOddSidesRoundingUp() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp32
            model: {architecture: cnn, cnn: {channels: [2, 3, 5], blocksPerStage: 2}}
            data: {source: synthetic, synthetic: {features: 147, classes: 4}, imageShape: [3, 7, 7]}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // 7x7 -> 4x4 -> 2x2 (stride 2, padding 1: ceil(side / 2))
    // stem 3*2*49 = 294; stage 0: 2 blocks * 7*2*49 = 1,372
    // stage 1: 9*3*16 + 7*3*16 = 432 + 336 = 768; stage 2: 9*5*4 + 7*5*4 = 180 + 140 = 320
    // pooled 5 + logits 4 = 9; total 2,763 values -> 5,526 bytes scaled
    // fixed: 4*147 + 4*4 = 604; cast: 2*147 + 4*4 = 310
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(new MemoryModel.Activations(5_526, 604, 310));
  }

  @Test
  void transformerActivationsFollowKorthikanti() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 64}}
            data: {source: synthetic, synthetic: {task: sequence}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // per layer s*h*(34 + 5*a*s/h) = 64*128*(34 + 5*4*64/128) = 8,192 * 44 = 360,448; two layers 720,896
    // final LayerNorm in and out 2 * 2*64*128 = 32,768; FP16 logits 2*64*256 = 32,768 -> 786,432 scaled
    // FP32 log-softmax 4*64*256 = 65,536 fixed; FP32 copy of the logits 65,536 cast
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(786_432, 65_536, 65_536));
    assertThat(a.perSample(Precision.FP32)).isEqualTo(1_638_400);
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(917_504);
  }

  @Test
  void perReplicaWithoutReserveIsWhatTheTrainerAllocates() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // 21,768 parameters * 16 bytes (Adam) = 348,288; 4 samples * 1,296 = 5,184
    MemoryBreakdown mixed = MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP16_MIXED, 4);
    assertThat(mixed)
        .isEqualTo(new MemoryBreakdown(43_536, 87_072, 43_536, 174_144, 5_184, 0));
    assertThat(mixed.total()).isEqualTo(348_288 + 5_184);
    // FP32: 348,288 + 4 * 2,240
    assertThat(MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP32, 4).total())
        .isEqualTo(348_288 + 8_960);
  }

  private static MixedPrecisionJobSpec mlpSpec(String extra) {
    return Jobs.spec(
        """
        precision: fp16-mixed
        model: {architecture: mlp, mlp: {hiddenSizes: [128, 128], %s}}
        data: {source: synthetic, synthetic: {features: 32, classes: 8}}
        training: {globalBatchSize: 64, steps: 1}
        """
            .formatted(extra));
  }
}
