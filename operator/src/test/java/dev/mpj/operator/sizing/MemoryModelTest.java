package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingSpec;
import org.junit.jupiter.api.Test;

class MemoryModelTest {
  /** Backward's new FP16 gradient of mlpSpec's largest weight, 128 x 128, on a GPU. */
  private static final MemoryModel.WeightGradient HIDDEN_WEIGHT =
      new MemoryModel.WeightGradient(16_384, 2);

  @Test
  void modelStatePerParameterInEachPrecisionAndOptimizer() {
    TrainingSpec.Optimizer adam = new TrainingSpec.Optimizer();
    // FP32 with Adam: 4 weights + 4 gradients + 8 moments = 16 bytes per parameter;
    // temporaries: the model is smaller than an update piece, so a piece is the whole model; Adam's
    // fused kernel holds 5 FP32 temporaries of its piece at once: 20 bytes per parameter here
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, adam))
        .isEqualTo(new MemoryBreakdown(4_000, 0, 4_000, 8_000, 20_000, 0, 0));
    // FP16 mixed with Adam: 2 FP16 weights + 4 FP32 master + 2 FP16 gradients + 8 moments = 16 as
    // well;
    // temporaries: the kernel's 5 and the piece's FP32 gradient, 6 pieces
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, adam))
        .isEqualTo(new MemoryBreakdown(2_000, 4_000, 2_000, 8_000, 24_000, 0, 0));
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, adam).perParameter())
        .isEqualTo(40_000);

    TrainingSpec.Optimizer sgd = new TrainingSpec.Optimizer();
    sgd.type = TrainingSpec.OptimizerType.SGD;
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).optimizerState()).isZero();
    // plain SGD: g*lr, 1 piece in FP32; in FP16 mixed also the piece's FP32 gradient, 2
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).updateTemporaries())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).updateTemporaries())
        .isEqualTo(8_000);
    sgd.momentum = 0.9;
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).optimizerState())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).modelState())
        .isEqualTo(12_000);
    // with momentum the update's temporary is b*lr instead of g*lr: the same piece
    assertThat(MemoryModel.modelState(1_000, Precision.FP32, sgd).updateTemporaries())
        .isEqualTo(4_000);
    assertThat(MemoryModel.modelState(1_000, Precision.FP16_MIXED, sgd).updateTemporaries())
        .isEqualTo(8_000);
    // no optimizer section is Adam
    assertThat(MemoryModel.updateTemporaryBytes(1_000, Precision.FP32, null)).isEqualTo(20_000);
  }

  @Test
  void updateTemporariesStopGrowingAtOnePiece() {
    // Adam's fused pieces of 2^16 elements (256 KiB of FP32): 5 of them in FP32, 1.25 MiB, and 6 in
    // FP16 mixed, 1.5 MiB, more than the norms' FP32 copy of a piece of 2^18 (1 MiB), whether the
    // model has a million parameters or a billion
    TrainingSpec.Optimizer adam = new TrainingSpec.Optimizer();
    assertStopsGrowing(adam, 5L << 18, 6L << 18);
    assertThat(MemoryModel.updateTemporaryBytes((1L << 16) - 1, Precision.FP32, adam))
        .isEqualTo(20L * ((1L << 16) - 1));
    // SGD's pieces of 2^18: 1 MiB of change in FP32; 2 MiB in FP16 mixed with the FP32 gradient
    TrainingSpec.Optimizer sgd = new TrainingSpec.Optimizer();
    sgd.type = TrainingSpec.OptimizerType.SGD;
    assertStopsGrowing(sgd, 1L << 20, 2L << 20);
    assertThat(MemoryModel.updateTemporaryBytes((1L << 18) - 1, Precision.FP32, sgd))
        .isEqualTo(4L * ((1L << 18) - 1));
  }

  private static void assertStopsGrowing(TrainingSpec.Optimizer optimizer, long fp32, long mixed) {
    for (long parameters : new long[] {1L << 18, 1_000_000L, 1_000_000_000L}) {
      assertThat(MemoryModel.updateTemporaryBytes(parameters, Precision.FP32, optimizer))
          .as("%d parameters", parameters)
          .isEqualTo(fp32);
      assertThat(MemoryModel.updateTemporaryBytes(parameters, Precision.FP16_MIXED, optimizer))
          .as("%d parameters", parameters)
          .isEqualTo(mixed);
    }
  }

  @Test
  void mlpActivations() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // F=32, hidden [128,128], 8 classes, ReLU
    // scaled at 16 bits: the input 32, per hidden layer the ReLU's output 128 (the Linear's output
    // is freed once the ReLU has it); the logits go once the log-softmax is taken:
    //   2 bytes * (32 + 128 + 128) = 576
    // fixed: the loss's FP32 log-softmax 4*8 = 32; cast: nothing
    // backward beside them: the second hidden layer's Linear holds the gradient of its output and
    // of its input, 128 + 128 values (2 bytes each: 512 at 16 bits), more than the loss's FP32
    // gradients of the log-softmax's output and input, 8 * 8 = 64
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a)
        .isEqualTo(
            new MemoryModel.Activations(
                576, 32, 0, new MemoryModel.BackwardTransient(64, 512), HIDDEN_WEIGHT));
    assertThat(a.heldPerSample(Precision.FP32)).isEqualTo(2 * 576 + 32); // 1,184
    assertThat(a.heldPerSample(Precision.FP16_MIXED)).isEqualTo(576 + 32); // 608
    assertThat(a.perSample(Precision.FP32)).isEqualTo(1_184 + 2 * 512); // 2,208
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(608 + 512); // 1,120
  }

  @Test
  void mlpGeluKeepsItsInputToo() {
    MixedPrecisionJobSpec spec = mlpSpec("activation: gelu");
    // GELU's backward needs its input, the Linear's output: 2 bytes * (32 + 2 * 256) = 1,088
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(
            new MemoryModel.Activations(
                1_088, 32, 0, new MemoryModel.BackwardTransient(64, 512), HIDDEN_WEIGHT));
  }

  @Test
  void mlpDropoutAddsItsOutputAndAOneByteMask() {
    MixedPrecisionJobSpec spec = mlpSpec("dropout: 0.1");
    // scaled: 2 * (32 + 256 + dropout outputs 256) = 1,088; fixed: 32 + masks 256 bytes = 288
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(
            new MemoryModel.Activations(
                1_088, 288, 0, new MemoryModel.BackwardTransient(64, 512), HIDDEN_WEIGHT));
  }

  @Test
  void cnnActivationsFollowTheResolution() {
    MixedPrecisionJobSpec spec = smallCnnSpec();
    // one tensor each: every conv's output (the fused batch norm's input) and every ReLU's output
    // stem at 8x8 (4*64 = 256): conv, ReLU                       2 * 256 = 512
    // stage 0 block (4->4) at 8x8: 2 convs, 2 ReLUs              4 * 256 = 1,024
    // stage 1 block (4->8, stride 2) at 4x4 (8*16 = 128): + projection conv
    //                                                            5 * 128 = 640
    // pooled 8                                                   8
    //                                                            2,184
    // scaled: 2 * (input 64 + 2,184) = 4,496; fixed: log-softmax 4 * 10 = 40; cast: nothing
    // backward beside them: three maps of the largest block output, 4*8*8 = 256 values (the stem's
    // and stage 0's), 2 * 3 * 256 = 1,536 at 16 bits; the loss's 8 * 10 = 80 is smaller; once per
    // micro-batch the new gradient of the largest parameter, stage 1's 8x8x3x3 conv (576)
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a)
        .isEqualTo(
            new MemoryModel.Activations(
                4_496,
                40,
                0,
                new MemoryModel.BackwardTransient(80, 1_536),
                new MemoryModel.WeightGradient(576, 2)));
    assertThat(a.heldPerSample(Precision.FP32)).isEqualTo(9_032);
    assertThat(a.heldPerSample(Precision.FP16_MIXED)).isEqualTo(4_536);
    assertThat(a.perSample(Precision.FP32)).isEqualTo(9_032 + 3_072);
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(4_536 + 1_536);
  }

  @Test
  void onACpuAnFp16CnnsBackwardHoldsHalfTheMapsOfAWholeBatch() {
    MixedPrecisionJobSpec spec = smallCnnSpec();
    DataShape shape = DataShape.of(spec.data);
    MemoryModel.Activations gpu = MemoryModel.activations(spec.model, shape);
    MemoryModel.Activations cpu =
        MemoryModel.activations(spec.model, shape, MemoryModel.Device.CPU);
    // the same tensors kept; the FP16 convolutions run over pieces of 8 samples on a CPU, so
    // backward holds 1.5 maps of the widest output (4*8*8 = 256 values) at 16 bits: 768 bytes,
    // against the whole batch's 3 maps, 1,536
    assertThat(cpu.heldPerSample(Precision.FP16_MIXED))
        .isEqualTo(gpu.heldPerSample(Precision.FP16_MIXED));
    assertThat(cpu.perSample(Precision.FP16_MIXED)).isEqualTo(4_536 + 768);
    assertThat(gpu.perSample(Precision.FP16_MIXED)).isEqualTo(4_536 + 1_536);
    // FP32 runs whole on both: 3 maps of 4 bytes
    assertThat(cpu.perSample(Precision.FP32)).isEqualTo(gpu.perSample(Precision.FP32));
    assertThat(cpu.perSample(Precision.FP32)).isEqualTo(9_032 + 3_072);
    // a model without convolutions differs only in the new FP16 gradient of its largest weight
    // (128 x 128): 6 bytes an element on a CPU (the FP32 product and its FP16 copy), 2 on a GPU
    MixedPrecisionJobSpec mlp = mlpSpec("");
    DataShape mlpShape = DataShape.of(mlp.data);
    assertThat(MemoryModel.perReplica(mlp, mlpShape, Precision.FP32, 64, MemoryModel.Device.CPU))
        .isEqualTo(MemoryModel.perReplica(mlp, mlpShape, Precision.FP32, 64));
    assertThat(
            MemoryModel.perReplica(mlp, mlpShape, Precision.FP16_MIXED, 64, MemoryModel.Device.CPU)
                    .activations()
                - MemoryModel.perReplica(mlp, mlpShape, Precision.FP16_MIXED, 64).activations())
        .isEqualTo(4L * 16_384);
  }

  @Test
  void backwardTransientIsTheLargerOfTheLossAndTheWidestLayer() {
    // the loss's FP32 gradients are the same in both precisions; a layer's halve in FP16
    MemoryModel.BackwardTransient t = new MemoryModel.BackwardTransient(1_000, 600);
    assertThat(t.perSample(Precision.FP16_MIXED)).isEqualTo(1_000);
    assertThat(t.perSample(Precision.FP32)).isEqualTo(1_200);
    assertThat(MemoryModel.BackwardTransient.NONE.perSample(Precision.FP32)).isZero();
    // an MLP that narrows: [64, 256, 32] over 16 features, 4 classes. The first layer's input
    // takes no gradient (2 * 64); the second holds 256 + max(256, 64) = 512; the third 32 + 256
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp32
            model: {architecture: mlp, mlp: {hiddenSizes: [64, 256, 32]}}
            data: {source: synthetic, synthetic: {features: 16, classes: 4}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)).backward())
        .isEqualTo(new MemoryModel.BackwardTransient(32, 2 * 512));
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
    // stem (2*49 = 98):    2 * 98 = 196
    // stage 0, 2 blocks:   2 * 4 * 98 = 784
    // stage 1 (3*16 = 48): 5 * 48 + 4 * 48 = 432
    // stage 2 (5*4 = 20):  5 * 20 + 4 * 20 = 180
    // pooled 5:            5
    //                      1,597
    // scaled 2 * (147 + 1,597) = 3,488; fixed 4 * 4 = 16
    // backward: three maps of the stem's size, 98 values: 2 * 3 * 98 = 588; the loss 8 * 4 = 32;
    // the largest parameter's new gradient: the last stage's 5x5x3x3 conv, 225 elements
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)))
        .isEqualTo(
            new MemoryModel.Activations(
                3_488,
                16,
                0,
                new MemoryModel.BackwardTransient(32, 588),
                new MemoryModel.WeightGradient(225, 2)));
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
    // per layer 32*s*h = 32*64*128 = 262,144, plus the softmax's a*s^2 at 2 bytes:
    // 2*4*64^2 = 32,768 -> 294,912; two layers 589,824
    // final LayerNorm in and out 2 * 2*64*128 = 32,768 -> 622,592 scaled
    // the FP32 log-softmax 4*64*256 = 65,536 fixed; the logits go once it is taken
    // backward's peak is at the loss, every activation still held. s*V = 16,384 logits per sample
    // (4,096 or more): the loss is taken in 8 pieces of rows. FP32: the pieces' gradients and the
    // joined gradient of the logits, 4 + 4 bytes per logit against the log-softmax's 4 they
    // replace: 4*16,384 = 65,536. FP16 mixed: one piece's two FP32 gradients at a time,
    // 8*16,384/8 = 16,384 (taken whole it was 8*16,384 = 131,072 in both); once per micro-batch
    // the new gradient of the largest parameter, a layer's 128 x 512 MLP weight (65,536)
    MemoryModel.Activations a = MemoryModel.activations(spec.model, DataShape.of(spec.data));
    assertThat(a)
        .isEqualTo(
            new MemoryModel.Activations(
                622_592,
                65_536,
                0,
                new MemoryModel.BackwardTransient(65_536, 16_384, 0),
                new MemoryModel.WeightGradient(65_536, 2)));
    assertThat(a.heldPerSample(Precision.FP32)).isEqualTo(2 * 622_592 + 65_536); // 1,310,720
    assertThat(a.heldPerSample(Precision.FP16_MIXED)).isEqualTo(622_592 + 65_536); // 688,128
    assertThat(a.perSample(Precision.FP32)).isEqualTo(1_310_720 + 65_536);
    assertThat(a.perSample(Precision.FP16_MIXED)).isEqualTo(688_128 + 16_384);
  }

  @Test
  void aLossOfManyOutputsIsCountedInPiecesAndAFewClassesWhole() {
    // 10 classes: whole, the two FP32 gradients of the log-softmax, 8 bytes per output in both
    assertThat(MemoryModel.lossBackward(10)).isEqualTo(new MemoryModel.BackwardTransient(80, 0));
    assertThat(MemoryModel.lossBackward(4_095))
        .isEqualTo(new MemoryModel.BackwardTransient(8 * 4_095, 0));
    // 4,096 outputs and more: in pieces, 4 bytes per output in FP32, 8 / 8 = 1 in FP16 mixed
    assertThat(MemoryModel.lossBackward(4_096))
        .isEqualTo(new MemoryModel.BackwardTransient(4 * 4_096, 4_096, 0));
    // a classifier of 50,000 classes: the same rule as a sequence's positions x vocabulary
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: mlp, mlp: {hiddenSizes: [64]}}
            data: {source: synthetic, synthetic: {features: 16, classes: 50000}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    MemoryModel.BackwardTransient backward =
        MemoryModel.activations(spec.model, DataShape.of(spec.data)).backward();
    assertThat(backward)
        .isEqualTo(new MemoryModel.BackwardTransient(200_000, 50_000, 2 * (64 + 64)));
    assertThat(backward.perSample(Precision.FP16_MIXED)).isEqualTo(50_000);
    assertThat(backward.perSample(Precision.FP32)).isEqualTo(200_000);
  }

  @Test
  void transformerDropoutCountsAsThePaper() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 64, dropout: 0.1}}
            data: {source: synthetic, synthetic: {task: sequence}}
            training: {globalBatchSize: 8, steps: 1}
            """);
    // per layer 34*s*h + 5*a*s^2 = 278,528 + 81,920 = 360,448 (one-byte masks after attention and
    // MLP, the attention dropout's mask and output); two layers 720,896, plus 32,768
    assertThat(MemoryModel.activations(spec.model, DataShape.of(spec.data)).scaledBytes16())
        .isEqualTo(753_664);
  }

  @Test
  void perReplicaWithoutReserveIsWhatTheTrainerAllocates() {
    MixedPrecisionJobSpec spec = mlpSpec("");
    // 21,768 parameters * 16 bytes (Adam) = 348,288; temporaries 6 fused pieces of 21,768 FP32
    // elements = 24 * 21,768 = 522,432, plus the FP16 joined gradient of the grouped small
    // parameters (all six tensors are below 2^16 elements and fit one group) 2 * 21,768 = 43,536
    // -> 565,968;
    // 4 samples * (608 + backward's 512) = 4,480, and backward's new FP16 gradient of the 128 x 128
    // weight once, 32,768 -> 37,248
    MemoryBreakdown mixed =
        MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP16_MIXED, 4);
    assertThat(mixed)
        .isEqualTo(new MemoryBreakdown(43_536, 87_072, 43_536, 174_144, 565_968, 37_248, 0));
    // the activations are freed before the update makes its temporaries: the larger of the two
    assertThat(mixed.total()).isEqualTo(348_288 + Math.max(565_968, 37_248));
    // FP32: 348,288 + the larger of 5 fused pieces 20 * 21,768 with the FP32 joined gradient
    // 4 * 21,768, and 4 * 2,208
    assertThat(MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP32, 4).total())
        .isEqualTo(348_288 + Math.max(435_360 + 87_072, 8_832));
    // at 1,000 samples the activations are the larger: 1,000 * 2,208 and the FP32 weight gradient
    // 4 * 16,384
    assertThat(MemoryModel.perReplica(spec, DataShape.of(spec.data), Precision.FP32, 1_000).total())
        .isEqualTo(348_288 + 2_208_000 + 65_536);
  }

  /** A CNN of channels [4, 8], one block per stage, on 1 x 8 x 8 images, 10 classes. */
  private static MixedPrecisionJobSpec smallCnnSpec() {
    return Jobs.spec(
        """
        precision: fp16-mixed
        model: {architecture: cnn, cnn: {channels: [4, 8], blocksPerStage: 1}}
        data: {source: synthetic, synthetic: {features: 64, classes: 10}, imageShape: [1, 8, 8]}
        training: {globalBatchSize: 8, steps: 1}
        """);
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
