package dev.mpj.bench;

import dev.mpj.api.DataShape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.operator.sizing.Bytes;
import dev.mpj.operator.sizing.MemoryBreakdown;
import dev.mpj.operator.sizing.MemoryModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pure half of {@code mpj bench memory}: which jobs to train, what {@link MemoryModel} predicts
 * for them, and the table that sets the trainer's measured peak beside the prediction.
 *
 * <p>What is compared: the trainer allocates the weights, the FP32 master weights and the optimizer
 * state while it sets up, so the resident memory right before step 1 already holds them. The first
 * step adds the gradients, which stay from step to step, and the code of libtorch's operations,
 * paged in from the library file as they first run (resident memory mapped from files, not
 * tensors). The set-up of a measured step is therefore the process after its first step: the peak
 * of the later steps above that point is the larger of the activations (with the backward pass's
 * transient) and the update temporaries, in the model's terms. That is the prediction each
 * measurement is compared with ({@link Prediction#step()}); the first step is reported beside it,
 * against the gradients plus that ({@link Prediction#firstStep()}).
 */
public final class MemoryValidation {
  private MemoryValidation() {}

  /**
   * A built-in architecture at a size where activations dominate, and the micro-batches to measure.
   */
  public record Model(
      String name,
      String modelYaml,
      String syntheticYaml,
      String imageShapeYaml,
      List<Integer> microBatches) {
    public Model withMicroBatches(List<Integer> batches) {
      return new Model(name, modelYaml, syntheticYaml, imageShapeYaml, List.copyOf(batches));
    }
  }

  /**
   * The models of the benchmark: small enough for a CPU, large enough that activations stand above
   * noise.
   */
  public static final List<Model> MODELS =
      List.of(
          new Model(
              "mlp",
              "{architecture: mlp, mlp: {hiddenSizes: [256, 256, 256, 256, 256, 256, 256, 256]}}",
              "{task: classification, features: 256, classes: 10}",
              null,
              List.of(256, 1024, 4096)),
          new Model(
              "cnn",
              "{architecture: cnn, cnn: {channels: [16, 32], blocksPerStage: 1}}",
              "{task: classification, features: 3072, classes: 10}",
              "[3, 32, 32]",
              List.of(64, 256)),
          new Model(
              "transformer",
              "{architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4, vocabSize: 256, sequenceLength: 128}}",
              "{task: sequence}",
              null,
              List.of(8, 32)));

  /**
   * The noise floor: a model of a few hundred parameters at micro-batch 1, whose steps allocate
   * almost nothing.
   */
  public static final Model BASELINE =
      new Model(
          "baseline",
          "{architecture: mlp, mlp: {hiddenSizes: [8]}}",
          "{task: classification, features: 4, classes: 2}",
          null,
          List.of(1));

  /**
   * The loss scale the mixed-precision runs start at: GradScaler's 65536 overflows in step 1 on
   * every model here (the step is skipped, and the update runs first in step 2); 1024 does not.
   */
  static final double MIXED_INITIAL_SCALE = 1024;

  /** One training run to measure. */
  public record Case(Model model, Precision precision, int microBatch, int steps) {
    /**
     * The job the trainer runs: one replica, the whole global batch in one micro-batch, no
     * validation split. In mixed precision the loss scale starts at {@link #MIXED_INITIAL_SCALE},
     * so that step 1 does not overflow and updates the weights as it does in FP32: the first
     * update's one-time costs (its code, the JIT compiler's work, libtorch's set-up on a kernel's
     * first call) then fall in step 1, which is set-up, in both precisions.
     */
    public String manifest() {
      String synthetic =
          model.syntheticYaml().substring(0, model.syntheticYaml().length() - 1)
              + ", samples: "
              + Math.max(64, microBatch * steps)
              + "}";
      return """
          apiVersion: mpj.dev/v1alpha1
          kind: MixedPrecisionJob
          metadata: {name: memory-%s}
          spec:
            precision: %s
            model: %s
            data:
              source: synthetic
              synthetic: %s
          %s    validationFraction: 0
            training: {globalBatchSize: %d, steps: %d, optimizer: {type: adam, learningRate: 0.001}, seed: 0}
          %s"""
          .formatted(
              model.name(),
              precision.value(),
              model.modelYaml(),
              synthetic,
              model.imageShapeYaml() == null
                  ? ""
                  : "    imageShape: " + model.imageShapeYaml() + "\n",
              microBatch,
              steps,
              precision.isMixed()
                  ? "  lossScaling: {initialScale: " + MIXED_INITIAL_SCALE + "}\n"
                  : "");
    }

    public MixedPrecisionJobSpec spec() {
      return JobFiles.parse(manifest()).getSpec();
    }

    /** What the model predicts on a CPU, where the benchmark runs. */
    public Prediction prediction() {
      MixedPrecisionJobSpec spec = spec();
      MemoryBreakdown b =
          MemoryModel.perReplica(
              spec, DataShape.of(spec.data), precision, microBatch, MemoryModel.Device.CPU);
      return new Prediction(
          b.training(),
          b.activations(),
          Math.max(b.updateTemporaries(), b.activations()),
          b.gradients());
    }
  }

  /**
   * What the model predicts, in bytes.
   *
   * @param training everything the training process allocates (model state, update temporaries and
   *     activations with the backward transient)
   * @param activations of which the activations, with the backward pass's transient
   * @param step what a step after the first adds to the process the first step leaves: the larger
   *     of the update temporaries and the activations (never resident together); the gradients are
   *     already there
   */
  public record Prediction(long training, long activations, long step, long gradients) {
    public Prediction(long training, long activations, long step) {
      this(training, activations, step, 0);
    }

    /** What the first step adds to the set-up, libtorch's code aside: the gradients too. */
    public long firstStep() {
      return gradients + step;
    }
  }

  /**
   * A measured case, resident memory in bytes.
   *
   * @param measured the peak of the steps after the first above the process right after the first
   * @param firstStep the peak of the first step above the process right before it
   * @param codeFirstStep what the first step added to resident memory mapped from files: libtorch's
   *     code, paged in as its operations first run
   */
  public record Result(
      Case run, Prediction predicted, long measured, long firstStep, long codeFirstStep) {
    public Result(Case run, Prediction predicted, long measured) {
      this(run, predicted, measured, -1, -1);
    }

    /** measured / predicted - 1. */
    public double error() {
      return relativeError(measured, predicted.step());
    }
  }

  /** The benchmark's cases: every model at each of its micro-batches in each precision. */
  public static List<Case> cases(List<Model> models, List<Precision> precisions, int steps) {
    List<Case> cases = new ArrayList<>();
    for (Model m : models) {
      for (Precision p : precisions) {
        for (int mb : m.microBatches()) {
          cases.add(new Case(m, p, mb, steps));
        }
      }
    }
    return cases;
  }

  /**
   * Bytes per sample between two micro-batches: what a sample adds, with every fixed cost
   * cancelled.
   */
  public static long perSample(int smallBatch, long smallBytes, int largeBatch, long largeBytes) {
    return Math.round((double) (largeBytes - smallBytes) / (largeBatch - smallBatch));
  }

  public static double relativeError(long measured, long predicted) {
    return (double) measured / predicted - 1;
  }

  /**
   * The tables, one per model, and the FP16-mixed/FP32 ratios. {@code noise} is the baseline's
   * measured peak per precision: a row whose measurement is under twice that is marked.
   */
  public static String report(List<Result> results, Map<Precision, Long> noise) {
    StringBuilder out = new StringBuilder();
    List<String> models = results.stream().map(r -> r.run().model().name()).distinct().toList();
    for (String model : models) {
      List<Result> rows =
          results.stream().filter(r -> r.run().model().name().equals(model)).toList();
      out.append(model).append('\n');
      out.append(
          String.format(
              Locale.ROOT,
              "%-11s %6s %12s %12s %12s %12s %8s %12s %12s  %s%n",
              "precision",
              "micro",
              "pred. train",
              "of which act",
              "pred. step",
              "measured",
              "error",
              "1st step",
              "of it code",
              "note"));
      for (Result r : rows) {
        Long floor = noise.get(r.run().precision());
        String note =
            floor != null && r.measured() < 2 * floor
                ? "below noise (baseline " + Bytes.format(floor) + ")"
                : "";
        out.append(
                String.format(
                        Locale.ROOT,
                        "%-11s %6d %12s %12s %12s %12s %+7.0f%% %12s %12s  %s%n",
                        r.run().precision().value(),
                        r.run().microBatch(),
                        Bytes.format(r.predicted().training()),
                        Bytes.format(r.predicted().activations()),
                        Bytes.format(r.predicted().step()),
                        Bytes.format(r.measured()),
                        100 * r.error(),
                        r.firstStep() < 0 ? "-" : Bytes.format(r.firstStep()),
                        r.codeFirstStep() < 0 ? "-" : Bytes.format(r.codeFirstStep()),
                        note)
                    .stripTrailing())
            .append('\n');
      }
      for (Precision p : Precision.values()) {
        List<Result> byBatch =
            rows.stream()
                .filter(r -> r.run().precision() == p)
                .sorted(Comparator.comparingInt(r -> r.run().microBatch()))
                .toList();
        if (byBatch.size() >= 2) {
          Result small = byBatch.get(0);
          Result large = byBatch.get(byBatch.size() - 1);
          long measured =
              perSample(
                  small.run().microBatch(),
                  small.measured(),
                  large.run().microBatch(),
                  large.measured());
          long predicted =
              perSample(
                  small.run().microBatch(),
                  small.predicted().step(),
                  large.run().microBatch(),
                  large.predicted().step());
          out.append(
              String.format(
                  Locale.ROOT,
                  "%s per sample (slope from micro-batch %d to %d): measured %s, predicted %s, error %+.0f%%%n",
                  p.value(),
                  small.run().microBatch(),
                  large.run().microBatch(),
                  Bytes.format(measured),
                  Bytes.format(predicted),
                  100 * relativeError(measured, predicted)));
        }
      }
      for (Result fp16 : rows) {
        if (fp16.run().precision() != Precision.FP16_MIXED) {
          continue;
        }
        rows.stream()
            .filter(
                r ->
                    r.run().precision() == Precision.FP32
                        && r.run().microBatch() == fp16.run().microBatch())
            .findFirst()
            .ifPresent(
                fp32 ->
                    out.append(
                        String.format(
                            Locale.ROOT,
                            "fp16-mixed/fp32 at micro-batch %d: measured %.2f, predicted %.2f%n",
                            fp16.run().microBatch(),
                            (double) fp16.measured() / fp32.measured(),
                            (double) fp16.predicted().step() / fp32.predicted().step())));
      }
      out.append('\n');
    }
    return out.toString();
  }
}
