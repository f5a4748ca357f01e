package dev.mpj.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mpj.api.DataShape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.bench.MemoryValidation.Case;
import dev.mpj.bench.MemoryValidation.Model;
import dev.mpj.bench.MemoryValidation.Prediction;
import dev.mpj.bench.MemoryValidation.Result;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryValidationTest {
  private static final Model MLP = MemoryValidation.MODELS.get(0);

  @Test
  void everyCaseIsAValidJobThatTrainsItsMicroBatchInOneStepOfTheWholeGlobalBatch() {
    List<Case> cases =
        MemoryValidation.cases(
            MemoryValidation.MODELS, List.of(Precision.FP32, Precision.FP16_MIXED), 3);
    // mlp 3 + cnn 2 + transformer 2 micro-batches, in two precisions
    assertThat(cases).hasSize(14);
    for (Case c : cases) {
      MixedPrecisionJob job = JobFiles.parse(c.manifest());
      assertThat(SpecValidator.validate(job)).as(c.manifest()).isEmpty();
      MixedPrecisionJobSpec spec = job.getSpec();
      assertThat(spec.precision).isEqualTo(c.precision());
      assertThat(spec.training.globalBatchSize).isEqualTo(c.microBatch());
      assertThat(spec.training.steps).isEqualTo(3);
      assertThat(spec.data.validationFraction).isZero();
      assertThat(spec.data.synthetic.samples).isGreaterThanOrEqualTo(c.microBatch());
      assertThat(DataShape.of(spec.data).missingFor(spec.model)).isEmpty();
    }
    Case cnn = cases.stream().filter(c -> c.model().name().equals("cnn")).findFirst().orElseThrow();
    assertThat(DataShape.of(cnn.spec().data).cnnInput()).containsExactly(3, 32, 32);
    assertThat(
            SpecValidator.validate(
                JobFiles.parse(
                    new Case(MemoryValidation.BASELINE, Precision.FP16_MIXED, 1, 2).manifest())))
        .isEmpty();
  }

  @Test
  void predictsWhatTheStepsAddAboveTheSetUp() {
    // mlp: 256 features, eight hidden layers of 256, 10 classes
    //   parameters 8 * (256*256 + 256) + 256*10 + 10 = 528,906
    //   activations per sample at 16 bits: 2 * (input 256 + 8 ReLU outputs of 256) = 4,608; the
    //   loss's FP32 log-softmax 4*10 = 40; backward beside them: a hidden Linear's output and
    //   input gradients, 2 * (256 + 256) = 1,024 at 16 bits (the loss's 8*10 = 80 is smaller)
    //   FP32: 2 * 4,608 + 40 + 2 * 1,024 = 11,304 per sample, x 256 = 2,893,824; and once
    //   backward's new gradient of a 256 x 256 weight, 4 * 65,536 = 262,144 -> 3,155,968
    Prediction fp32 = new Case(MLP, Precision.FP32, 256, 3).prediction();
    assertThat(fp32.activations()).isEqualTo(3_155_968L);
    // model state 16 B/param, then the larger of the update temporaries (FP32, Adam: 5 fused
    // pieces of 2^16 FP32 elements, 1.25 MiB) and the activations, which the trainer frees before
    // the update
    // (the joined gradient of the grouped small parameters, the eight biases and the head,
    // 8*256 + 2,570 = 4,618 elements, adds 4 * 4,618 to the temporaries: still the smaller)
    assertThat(fp32.training())
        .isEqualTo(16L * 528_906 + Math.max((5L << 18) + 4 * 4_618, 3_155_968));
    // weights, master weights, Adam's state exist before step 1 and the gradients after it: a
    // later step adds the larger of the update temporaries and the activations; the first step
    // the FP32 gradients too
    assertThat(fp32.step()).isEqualTo(Math.max(5L << 18, 3_155_968));
    assertThat(fp32.firstStep()).isEqualTo(4L * 528_906 + Math.max(5L << 18, 3_155_968));
    // FP16 mixed: 4,608 + 40 + 1,024 = 5,672 per sample, and on the CPU the new gradient of a 256 x
    // 256 weight as the FP32 product and its FP16 copy, 6 * 65,536 = 393,216; FP16 gradients 2
    // B/param; temporaries 6 fused pieces (1.5 MiB) and the FP16 joined gradient of the 4,618
    // grouped elements, here less than the activations
    Prediction mixed = new Case(MLP, Precision.FP16_MIXED, 256, 3).prediction();
    assertThat(mixed.activations()).isEqualTo(256L * 5_672 + 393_216);
    assertThat(mixed.step()).isEqualTo(256L * 5_672 + 393_216);
    assertThat((6L << 18) + 2 * 4_618).isLessThan(mixed.step());
    assertThat(mixed.firstStep()).isEqualTo(2L * 528_906 + 256L * 5_672 + 393_216);
  }

  @Test
  void errorAndPerSampleSlope() {
    assertThat(MemoryValidation.relativeError(150, 100)).isCloseTo(0.5, within(1e-12));
    assertThat(MemoryValidation.relativeError(80, 100)).isCloseTo(-0.2, within(1e-12));
    // a fixed 30 MB cancels out of the slope: (30M + 4096*18K) - (30M + 256*18K) over 3840 samples
    assertThat(
            MemoryValidation.perSample(
                256, 30_000_000L + 256 * 18_000L, 4096, 30_000_000L + 4096 * 18_000L))
        .isEqualTo(18_000L);
  }

  @Test
  void reportsATablePerModelWithErrorsNoiseAndThePrecisionRatio() {
    Case small32 = new Case(MLP, Precision.FP32, 256, 2);
    Case large32 = new Case(MLP, Precision.FP32, 4096, 2);
    Case small16 = new Case(MLP, Precision.FP16_MIXED, 256, 2);
    List<Result> results =
        List.of(
            new Result(
                small32,
                new Prediction(20L << 20, 4L << 20, 10L << 20, 2L << 20),
                15L << 20,
                30L << 20,
                9L << 20),
            new Result(large32, new Prediction(100L << 20, 80L << 20, 90L << 20), 180L << 20),
            new Result(small16, new Prediction(15L << 20, 2L << 20, 5L << 20), 12L << 20));
    String report =
        MemoryValidation.report(
            results, Map.of(Precision.FP32, 10L << 20, Precision.FP16_MIXED, 10L << 20));

    assertThat(report).startsWith("mlp\n");
    List<String> lines = report.lines().toList();
    assertThat(lines.get(2))
        .contains(
            "fp32",
            "256",
            "20.0 MiB",
            "4.0 MiB",
            "10.0 MiB",
            "15.0 MiB",
            "+50%",
            // the first step: its peak, and the code it paged in
            "30.0 MiB",
            "9.0 MiB",
            "below noise (baseline 10.0 MiB)");
    assertThat(lines.get(3))
        .contains("4096", "90.0 MiB", "180.0 MiB", "+100%")
        .doesNotContain("noise");
    // a result without a first-step figure shows a dash
    assertThat(lines.get(3)).containsPattern("\\+100%\\s+-\\s+-");
    assertThat(lines.get(4)).contains("fp16-mixed", "12.0 MiB", "+140%", "below noise");
    // slope: (180 - 15) MiB against (90 - 10) MiB over 3840 samples
    assertThat(report)
        .contains(
            "fp32 per sample (slope from micro-batch 256 to 4096): measured 44.0 KiB, predicted 21.3 KiB, error +106%");
    // 12/15 measured against 5/10 predicted
    assertThat(report)
        .contains("fp16-mixed/fp32 at micro-batch 256: measured 0.80, predicted 0.50");
  }
}
