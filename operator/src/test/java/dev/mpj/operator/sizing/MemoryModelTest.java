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
    // FP32 with Adam: 4 weights + 4 gradients + 8 moments = 16 bytes per parameter;
    // temporaries: the model is smaller than an update piece, so a piece is the whole model; Adam
    // holds 2 FP32 pieces at once: 8 bytes per parameter here
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, adam))
        .isEqualTo(new MemoryBreakdown(4_000, 0, 4_000, 8_000, 8_000, 0, 0));
    // FP16 mixed with Adam: 2 FP16 weights + 4 FP32 master + 2 FP16 gradients + 8 moments = 16 as
    // well;
    // temporaries: 4 pieces (the FP32 gradient of a piece, Adam's 2, what FP16's conversions hold)
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, adam))
        .isEqualTo(new MemoryBreakdown(2_000, 4_000, 2_000, 8_000, 16_000, 0, 0));
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, adam).perParameter())
        .isEqualTo(32_000);

    TrainingSpec.Optimizer sgd = new TrainingSpec.Optimizer();
    sgd.type = TrainingSpec.OptimizerType.SGD;
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).optimizerState()).isZero();
    // plain SGD: g*lr, 1 piece in FP32; 3 in FP16 mixed
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).updateTemporaries())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).updateTemporaries())
        .isEqualTo(12_000);
    sgd.momentum = 0.9;
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).optimizerState())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).modelState())
        .isEqualTo(12_000);
    // with momentum the update's temporary is b*lr instead of g*lr: the same piece
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).updateTemporaries())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).updateTemporaries())
        .isEqualTo(12_000);
    // no optimizer section is Adam
    assertThat(MemoryModel.updateTemporaryBytes(1_000, Precision.FP32, null)).isEqualTo(8_000);
  }

  @Test
  void updateTemporariesStopGrowingAtOnePiece() {
    // pieces of 2^18 elements, 1 MiB of FP32: Adam holds 2 MiB in FP32 and 4 MiB in FP16 mixed
    // whether the model has a million parameters or a billion
    TrainingSpec.Optimizer adam = new TrainingSpec.Optimizer();
    for (long parameters : new long[] {1L << 18, 1_000_000L, 1_000_000_000L}) {
      assertThat(MemoryModel.updateTemporaryBytes(parameters, Precision.FP32, adam))
          .isEqualTo(2L << 20);
      assertThat(MemoryModel.updateTemporaryBytes(parameters, Precision.FP16_MIXED, adam))
          .isEqualTo(4L << 20);
    }
    assertThat(MemoryModel.updateTemporaryBytes((1L << 18) - 1, Precision.FP32, adam))
        .isEqualTo(8L * ((1L << 18) - 1));
  }

  @Test
  void mlpActivations() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // F=32, hidden [128,128], 8 classes
    // scaled at 16 bits: per hidden layer Linear out + ReLU out = 2*128 values, logits 8:
    //   2 bytes * (2*128 + 2*128 + 8) = 1,040
    // fixed: FP32 input 4*32 = 128; loss: FP32 log-softmax, one-hot target, product 3*4*8 = 96 ->
    // 224
    // cast (mixed only): FP16 input 2*32 = 64, FP32 copy of the logits 4*8 = 32 -> 96
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(1_040, 224, 96));
    assertThat(a.perSample(Precision.FP32)).isEqualTo(2 * 1_040 + 224); // 2,304
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(1_040 + 224 + 96); // 1,360
  }

  @Test
  void mlpDropoutAddsItsOutputAndAOneByteMask() {
    MixedPrecisionJobSpec spec = mlpSpec("dropout: 0.1");
    // scaled: 2 * (512 + dropout outputs 256 + 8) = 1,552; fixed: 224 + masks 256 bytes = 480
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(new MemoryModel.Activations(1_552, 480, 96));
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
    //                                          one tensor each       BatchNorm outputs
    // stem at 8x8 (4*64 = 256): conv, ReLU        2 * 256 = 512         256
    // stage 0 block (4->4) at 8x8: 2 convs, 2 ReLUs, the sum
    //                                             5 * 256 = 1,280       2 * 256 = 512
    // stage 1 block (4->8, stride 2) at 4x4 (8*16 = 128): + projection conv and BN
    //                                             6 * 128 = 768         3 * 128 = 384
    // pooled 8 + logits 10                        18
    //                                             2,578                 1,152
    // scaled: 2 * 2,578 + 5 BN tensors * 2 bytes * 1,152 = 5,156 + 11,520 = 16,676
    // fixed: FP32 input 4 * 64 = 256 + 2 FP32 BN tensors 8 * 1,152 = 9,216 + loss 12 * 10 = 120 ->
    // 9,592
    // cast: FP16 input 2 * 64 = 128 + BN's |c|, c/s (FP16) and FP32 input copy 8 * 1,152 = 9,216
    //       + FP32 logits 40 -> 9,384
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(16_676, 9_592, 9_384));
    // FP32: 4 * 2,578 + 28 * 1,152 + 256 + 120 = 10,312 + 32,256 + 376
    assertThat(a.perSample(Precision.FP32)).isEqualTo(42_944);
    // FP16 mixed: 2 * 2,578 + 26 * 1,152 + (256 + 128) + (120 + 40) = 5,156 + 29,952 + 384 + 160
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(35_652);
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
    //                      one tensor each                 BatchNorm outputs
    // stem (2*49 = 98):    2 * 98 = 196                    98
    // stage 0, 2 blocks:   2 * 5 * 98 = 980                2 * 2 * 98 = 392
    // stage 1 (3*16 = 48): 6 * 48 + 5 * 48 = 528           3 * 48 + 2 * 48 = 240
    // stage 2 (5*4 = 20):  6 * 20 + 5 * 20 = 220           3 * 20 + 2 * 20 = 100
    // pooled 5 + logits 4: 9
    //                      1,933                           830
    // scaled 2 * 1,933 + 10 * 830 = 12,166; fixed 4*147 + 8 * 830 + 12*4 = 7,276;
    // cast 2*147 + 8 * 830 + 4*4 = 6,950
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(new MemoryModel.Activations(12_166, 7_276, 6_950));
  }

  @Test
  void transformerActivationsFollowKorthikantiAndTheTrainersAttention() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 64}}
            data: {source: synthetic, synthetic: {task: sequence}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // per layer 34*s*h = 34*64*128 = 278,528, plus 4 attention tensors of a*s^2 at 2 bytes:
    // 8*4*64^2 = 131,072 -> 409,600; two layers 819,200
    // final LayerNorm in and out 2 * 2*64*128 = 32,768; FP16 logits 2*64*256 = 32,768 -> 884,736
    // scaled
    // FP32 log-softmax, one-hot target and product 12*64*256 = 196,608 fixed; FP32 copy of the
    // logits
    // 4*64*256 = 65,536 cast
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a).isEqualTo(new MemoryModel.Activations(884_736, 196_608, 65_536));
    assertThat(a.perSample(Precision.FP32)).isEqualTo(2 * 884_736 + 196_608); // 1,966,080
    assertThat(a.perSample(Precision.FP16_MIXED))
        .isEqualTo(884_736 + 196_608 + 65_536); // 1,146,880
  }

  @Test
  void transformerDropoutKeepsTwoMoreAttentionTensors() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 64, dropout: 0.1}}
            data: {source: synthetic, synthetic: {task: sequence}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // the dropout's noise and output: 2 more tensors of a*s^2 at 2 bytes, 4*4*64^2 = 65,536 per
    // layer
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)).scaledBytes16())
        .isEqualTo(884_736 + 2 * 65_536);
  }

  @Test
  void perReplicaWithoutReserveIsWhatTheTrainerAllocates() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // 21,768 parameters * 16 bytes (Adam) = 348,288; temporaries 4 pieces of 21,768 FP32 elements
    // = 16 * 21,768 = 348,288; 4 samples * 1,360 = 5,440
    MemoryBreakdown mixed =
        MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP16_MIXED, 4);
    assertThat(mixed)
        .isEqualTo(new MemoryBreakdown(43_536, 87_072, 43_536, 174_144, 348_288, 5_440, 0));
    assertThat(mixed.total()).isEqualTo(348_288 + 348_288 + 5_440);
    // FP32: 348,288 + 2 pieces 8 * 21,768 + 4 * 2,304
    assertThat(MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP32, 4).total())
        .isEqualTo(348_288 + 174_144 + 9_216);
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
