package dev.mpj.api.validation;

import dev.mpj.api.CheckpointSize;
import dev.mpj.api.CheckpointSpec;
import dev.mpj.api.DataShape;
import dev.mpj.api.DataSpec;
import dev.mpj.api.DataTask;
import dev.mpj.api.LossScalingSpec;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelParameters;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.ReplicasSpec;
import dev.mpj.api.ResourcesSpec;
import dev.mpj.api.RunPolicySpec;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.TrainingSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The one validator of a job's spec, used by the operator and the trainer alike. It checks what the
 * CRD schema cannot say (cross-field rules, what the DJL engine can run) and repeats the schema's
 * ranges, because the trainer reads files that never passed an API server. Returns every violation,
 * each naming its field.
 */
public final class SpecValidator {

  private SpecValidator() {}

  public static List<Violation> validate(MixedPrecisionJob job) {
    List<Violation> violations = new ArrayList<>();
    if (job.getMetadata() == null || isBlank(job.getMetadata().getName())) {
      violations.add(new Violation("metadata.name", "is required"));
    } else {
      // What the API server requires of a custom resource's name; every child's name derives
      // from it.
      KubernetesNames.dns1123Subdomain(job.getMetadata().getName())
          .forEach(m -> violations.add(new Violation("metadata.name", m)));
    }
    if (job.getSpec() == null) {
      violations.add(new Violation("spec", "is required"));
      return violations;
    }
    violations.addAll(validate(job.getSpec()));
    besideUnderKueue(job).ifPresent(violations::add);
    return violations;
  }

  /** The label that puts a job into a Kueue queue. */
  static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";

  /**
   * Kueue admits a job as one Workload of one gang: a second gang beside it would run outside the
   * queue's quota.
   */
  private static Optional<Violation> besideUnderKueue(MixedPrecisionJob job) {
    var labels = job.getMetadata() == null ? null : job.getMetadata().getLabels();
    ParitySpec p = job.getSpec().parity;
    if (labels == null
        || !labels.containsKey(KUEUE_QUEUE_LABEL)
        || p == null
        || p.reference == null
        || p.reference.schedule != ParitySpec.Schedule.BESIDE) {
      return Optional.empty();
    }
    return Optional.of(
        new Violation(
            "spec.parity.reference.schedule",
            "beside runs a second gang that Kueue would not admit (the job is in queue "
                + labels.get(KUEUE_QUEUE_LABEL)
                + " by metadata.labels["
                + KUEUE_QUEUE_LABEL
                + "]); use before, which runs the reference on the job's admitted GPUs"));
  }

  public static List<Violation> validate(MixedPrecisionJobSpec spec) {
    Checks c = new Checks();
    if (spec.precision == null) {
      c.fail("spec.precision", "is required: fp32 or fp16-mixed");
    } else if (spec.precision == Precision.BF16_MIXED) {
      c.fail(
          "spec.precision",
          "bf16-mixed is not supported: the DJL PyTorch engine has no BF16 arrays; use fp16-mixed");
    }
    lossScaling(c, spec.lossScaling);
    model(c, spec.model);
    data(c, spec.data, spec.model);
    training(c, spec.training);
    replicas(c, spec.replicas);
    resources(c, spec.resources);
    checkpoint(c, spec.checkpoint);
    runPolicy(c, spec.runPolicy);
    parity(c, spec.parity, spec.precision, spec.training);
    besideWithGangScheduling(c, spec);
    crossFields(c, spec);
    if (spec.template != null) {
      // They go onto every replica pod, which the API server would refuse.
      c.violations.addAll(KubernetesNames.labels("spec.template.labels", spec.template.labels));
      c.violations.addAll(
          KubernetesNames.annotations("spec.template.annotations", spec.template.annotations));
      c.violations.addAll(
          PodTemplateRules.validate(
              spec.template,
              spec.resources == null
                  ? new ResourcesSpec().gpusPerReplica
                  : spec.resources.gpusPerReplica));
    }
    if (spec.image != null && spec.image.isBlank()) {
      c.fail("spec.image", "must not be empty");
    }
    if (c.violations.isEmpty()) {
      // Reads the model's size, which needs a valid model and data.
      hostMemory(c, spec);
    }
    return c.violations;
  }

  /** Throws {@link InvalidJobException} with every violation, if there are any. */
  public static void requireValid(MixedPrecisionJob job) {
    List<Violation> violations = validate(job);
    if (!violations.isEmpty()) {
      throw new InvalidJobException(violations);
    }
  }

  private static void lossScaling(Checks c, LossScalingSpec s) {
    if (s == null) {
      return;
    }
    String f = "spec.lossScaling.";
    c.require(s.mode != null, f + "mode", "must be dynamic or static");
    c.positive(f + "initialScale", s.initialScale);
    c.require(
        Double.isFinite(s.growthFactor) && s.growthFactor > 1.0,
        f + "growthFactor",
        "must be greater than 1 (got " + s.growthFactor + ")");
    c.require(
        s.backoffFactor > 0.0 && s.backoffFactor < 1.0,
        f + "backoffFactor",
        "must be between 0 and 1, exclusive (got " + s.backoffFactor + ")");
    c.atLeast(f + "growthInterval", s.growthInterval, 1);
    c.require(
        Double.isFinite(s.minScale) && s.minScale >= 0,
        f + "minScale",
        "must be zero or positive (got " + s.minScale + ")");
    c.require(
        s.minScale <= s.initialScale,
        f + "minScale",
        "must not exceed initialScale (" + s.minScale + " > " + s.initialScale + ")");
  }

  private static void model(Checks c, ModelSpec m) {
    if (m == null) {
      c.fail("spec.model", "is required: set model.architecture to mlp, cnn or transformer");
      return;
    }
    if (m.architecture == null) {
      c.fail("spec.model.architecture", "is required: mlp, cnn or transformer");
      return;
    }
    switch (m.architecture) {
      case MLP -> {
        if (m.mlp != null) {
          c.require(m.mlp.hiddenSizes != null, "spec.model.mlp.hiddenSizes", "is required");
          if (m.mlp.hiddenSizes != null) {
            for (int i = 0; i < m.mlp.hiddenSizes.size(); i++) {
              Integer size = m.mlp.hiddenSizes.get(i);
              c.require(
                  size != null && size >= 1,
                  "spec.model.mlp.hiddenSizes[" + i + "]",
                  "must be at least 1 (got " + size + ")");
            }
          }
          c.fraction("spec.model.mlp.dropout", m.mlp.dropout);
        }
      }
      case CNN -> {
        if (m.cnn != null) {
          c.require(
              m.cnn.channels != null && !m.cnn.channels.isEmpty(),
              "spec.model.cnn.channels",
              "must list at least one stage");
          if (m.cnn.channels != null) {
            for (int i = 0; i < m.cnn.channels.size(); i++) {
              Integer ch = m.cnn.channels.get(i);
              c.require(
                  ch != null && ch >= 1,
                  "spec.model.cnn.channels[" + i + "]",
                  "must be at least 1 (got " + ch + ")");
            }
          }
          c.atLeast("spec.model.cnn.blocksPerStage", m.cnn.blocksPerStage, 1);
        }
      }
      case TRANSFORMER -> {
        ModelSpec.Transformer t =
            m.transformer != null ? m.transformer : new ModelSpec.Transformer();
        String f = "spec.model.transformer.";
        c.atLeast(f + "layers", t.layers, 1);
        c.atLeast(f + "hiddenSize", t.hiddenSize, 1);
        c.atLeast(f + "heads", t.heads, 1);
        c.atLeast(f + "vocabSize", t.vocabSize, 2);
        c.atLeast(f + "sequenceLength", t.sequenceLength, 2);
        c.fraction(f + "dropout", t.dropout);
        if (t.heads >= 1 && t.hiddenSize % t.heads != 0) {
          c.fail(
              f + "hiddenSize",
              "must be a multiple of heads ("
                  + t.hiddenSize
                  + " is not a multiple of "
                  + t.heads
                  + ")");
        }
      }
    }
    for (var other : List.of("mlp", "cnn", "transformer")) {
      boolean set =
          switch (other) {
            case "mlp" -> m.mlp != null;
            case "cnn" -> m.cnn != null;
            default -> m.transformer != null;
          };
      if (set && !other.equals(m.architecture.name().toLowerCase())) {
        c.fail(
            "spec.model." + other,
            "is set but model.architecture is " + m.architecture.name().toLowerCase());
      }
    }
  }

  private static void data(Checks c, DataSpec d, ModelSpec model) {
    if (d == null) {
      c.fail("spec.data", "is required");
      return;
    }
    if (d.source == null) {
      c.fail("spec.data.source", "is required: synthetic, csv or npz");
      return;
    }
    switch (d.source) {
      case SYNTHETIC -> {
        DataSpec.Synthetic s = d.synthetic != null ? d.synthetic : new DataSpec.Synthetic();
        c.require(
            s.task != null,
            "spec.data.synthetic.task",
            "must be classification, regression or sequence");
        c.atLeast("spec.data.synthetic.samples", s.samples, 1);
        c.atLeast("spec.data.synthetic.features", s.features, 1);
        c.atLeast("spec.data.synthetic.classes", s.classes, 2);
        boolean transformer =
            model != null && model.architecture == ModelSpec.Architecture.TRANSFORMER;
        if (s.task == DataSpec.Task.SEQUENCE
            && model != null
            && model.architecture != null
            && !transformer) {
          c.fail("spec.data.synthetic.task", "sequence data needs model.architecture transformer");
        }
        if (transformer && s.task != null && s.task != DataSpec.Task.SEQUENCE) {
          c.fail(
              "spec.data.synthetic.task",
              "the transformer trains on sequence data; set task: sequence");
        }
      }
      case CSV -> {
        if (d.csv == null) {
          c.fail("spec.data.csv", "is required when data.source is csv");
        } else {
          c.require(!isBlank(d.csv.path), "spec.data.csv.path", "is required");
          c.require(!isBlank(d.csv.labelColumn), "spec.data.csv.labelColumn", "must not be empty");
          c.require(
              d.csv.task != DataSpec.Task.SEQUENCE,
              "spec.data.csv.task",
              "must be classification or regression; token sequences come in an npz archive");
          fileTask(c, d, d.csv.classes, model);
        }
      }
      case NPZ -> {
        if (d.npz == null) {
          c.fail("spec.data.npz", "is required when data.source is npz");
        } else {
          c.require(!isBlank(d.npz.path), "spec.data.npz.path", "is required");
          c.require(!isBlank(d.npz.features), "spec.data.npz.features", "must not be empty");
          c.require(!isBlank(d.npz.labels), "spec.data.npz.labels", "must not be empty");
          fileTask(c, d, d.npz.classes, model);
        }
      }
    }
    if (d.source != DataSpec.Source.SYNTHETIC && d.synthetic != null) {
      c.fail("spec.data.synthetic", "is set but data.source is " + d.source.name().toLowerCase());
    }
    if (d.source != DataSpec.Source.CSV && d.csv != null) {
      c.fail("spec.data.csv", "is set but data.source is " + d.source.name().toLowerCase());
    }
    if (d.source != DataSpec.Source.NPZ && d.npz != null) {
      c.fail("spec.data.npz", "is set but data.source is " + d.source.name().toLowerCase());
    }
    c.require(
        d.validationFraction >= 0 && d.validationFraction <= 0.9,
        "spec.data.validationFraction",
        "must be between 0 and 0.9 (got " + d.validationFraction + ")");
    if (d.imageShape != null) {
      boolean ok =
          d.imageShape.size() == 3 && d.imageShape.stream().allMatch(v -> v != null && v >= 1);
      c.require(ok, "spec.data.imageShape", "must be [channels, height, width], each at least 1");
      if (ok && d.source == DataSpec.Source.SYNTHETIC && d.synthetic != null) {
        long product = (long) d.imageShape.get(0) * d.imageShape.get(1) * d.imageShape.get(2);
        c.require(
            product == d.synthetic.features,
            "spec.data.imageShape",
            "has "
                + product
                + " values per sample but data.synthetic.features is "
                + d.synthetic.features);
      }
    }
  }

  /** The stated task of a csv or npz file against the model, and classes only where they count. */
  private static void fileTask(Checks c, DataSpec d, Integer classes, ModelSpec model) {
    String taskField = DataTask.field(d, "task");
    DataSpec.Task task = DataTask.stated(d);
    boolean transformer = model != null && model.architecture == ModelSpec.Architecture.TRANSFORMER;
    if (transformer && d.source == DataSpec.Source.CSV) {
      c.fail(
          "spec.data.source",
          "the transformer trains on token sequences: use synthetic (task: sequence) or npz");
    } else if (transformer && task != null && task != DataSpec.Task.SEQUENCE) {
      c.fail(taskField, "the transformer trains on sequence data; set task: sequence");
    } else if (task == DataSpec.Task.SEQUENCE
        && d.source == DataSpec.Source.NPZ
        && model != null
        && model.architecture != null
        && !transformer) {
      c.fail(taskField, "sequence data needs model.architecture transformer");
    }
    if (classes != null) {
      c.atLeast(DataTask.field(d, "classes"), classes, 2);
      DataSpec.Task resolved = DataTask.of(d, model != null ? model.architecture : null);
      c.require(
          resolved == DataSpec.Task.CLASSIFICATION,
          DataTask.field(d, "classes"),
          "is for classification, but the task is "
              + resolved.name().toLowerCase(Locale.ROOT)
              + (resolved == DataSpec.Task.SEQUENCE
                  ? " (its vocabulary is model.transformer.vocabSize)"
                  : ""));
    }
  }

  private static void training(Checks c, TrainingSpec t) {
    if (t == null) {
      c.fail("spec.training", "is required");
      return;
    }
    String f = "spec.training.";
    if (t.globalBatchSize == null) {
      c.fail(f + "globalBatchSize", "is required");
    } else {
      c.atLeast(f + "globalBatchSize", t.globalBatchSize, 1);
    }
    if (t.steps == null && t.epochs == null) {
      c.fail(f + "steps", "set steps or epochs");
    }
    if (t.steps != null) {
      c.atLeast(f + "steps", t.steps, 1);
    }
    if (t.epochs != null) {
      c.atLeast(f + "epochs", t.epochs, 1);
    }
    if (t.gradientClipNorm != null) {
      c.require(
          Double.isFinite(t.gradientClipNorm) && t.gradientClipNorm >= 0,
          f + "gradientClipNorm",
          "must be zero (off) or positive (got " + t.gradientClipNorm + ")");
    }
    TrainingSpec.Optimizer o = t.optimizer;
    if (o == null) {
      return;
    }
    c.require(o.type != null, f + "optimizer.type", "must be adam or sgd");
    c.positive(f + "optimizer.learningRate", o.learningRate);
    c.require(
        Double.isFinite(o.weightDecay) && o.weightDecay >= 0,
        f + "optimizer.weightDecay",
        "must be zero or positive (got " + o.weightDecay + ")");
    c.fraction(f + "optimizer.beta1", o.beta1);
    c.fraction(f + "optimizer.beta2", o.beta2);
    c.positive(f + "optimizer.epsilon", o.epsilon);
    c.fraction(f + "optimizer.momentum", o.momentum);
  }

  private static void replicas(Checks c, ReplicasSpec r) {
    if (r == null) {
      return;
    }
    c.atLeast("spec.replicas.min", r.min, 1);
    c.atLeast("spec.replicas.max", r.max, 1);
    c.require(
        r.min <= r.max,
        "spec.replicas.min",
        "must not exceed replicas.max (" + r.min + " > " + r.max + ")");
  }

  private static void resources(Checks c, ResourcesSpec r) {
    if (r == null) {
      return;
    }
    c.atLeast("spec.resources.gpusPerReplica", r.gpusPerReplica, 0);
    c.quantity("spec.resources.gpuMemory", r.gpuMemory);
    c.quantity("spec.resources.cpu", r.cpu);
    c.quantity("spec.resources.memory", r.memory);
  }

  private static void checkpoint(Checks c, CheckpointSpec k) {
    if (k == null) {
      return;
    }
    c.atLeast("spec.checkpoint.intervalSteps", k.intervalSteps, 1);
    c.atLeast("spec.checkpoint.keep", k.keep, 1);
    if (k.intervalSeconds != null) {
      c.atLeast("spec.checkpoint.intervalSeconds", k.intervalSeconds, 1);
    }
    if (k.volume != null) {
      boolean hasSize = k.volume.size != null;
      boolean hasClaim = !isBlank(k.volume.claimName);
      c.require(
          hasSize != hasClaim,
          "spec.checkpoint.volume",
          "set exactly one of checkpoint.volume.size and checkpoint.volume.claimName");
      c.quantity("spec.checkpoint.volume.size", k.volume.size);
    }
  }

  private static void runPolicy(Checks c, RunPolicySpec p) {
    if (p == null) {
      return;
    }
    c.atLeast("spec.runPolicy.backoffLimit", p.backoffLimit, 0);
    if (p.activeDeadlineSeconds != null) {
      c.require(
          p.activeDeadlineSeconds >= 1,
          "spec.runPolicy.activeDeadlineSeconds",
          "must be at least 1 (got " + p.activeDeadlineSeconds + ")");
    }
    if (p.ttlSecondsAfterFinished != null) {
      c.atLeast("spec.runPolicy.ttlSecondsAfterFinished", p.ttlSecondsAfterFinished, 0);
    }
  }

  private static void parity(Checks c, ParitySpec p, Precision precision, TrainingSpec training) {
    if (p == null) {
      return;
    }
    if (p.workingWeights != null && p.usesDeprecatedFields()) {
      String old =
          p.maxRelativeGap != null
              ? "maxRelativeGap"
              : p.intervalSteps != null ? "intervalSteps" : "action";
      c.fail(
          "spec.parity." + old,
          "is the deprecated alias of spec.parity.workingWeights."
              + old
              + "; set only spec.parity.workingWeights");
    }
    ParitySpec.WorkingWeights w = p.workingWeightsCheck();
    if (w != null) {
      String at = p.workingWeights != null ? "spec.parity.workingWeights." : "spec.parity.";
      c.require(
          Double.isFinite(w.maxRelativeGap) && w.maxRelativeGap >= 0,
          at + "maxRelativeGap",
          "must be zero or positive (got " + w.maxRelativeGap + ")");
      c.atLeast(at + "intervalSteps", w.intervalSteps, 1);
      c.require(w.action != null, at + "action", "must be warn or fail");
      if (precision == Precision.FP32) {
        c.fail(
            p.workingWeights != null ? "spec.parity.workingWeights" : "spec.parity",
            "compares FP16 with FP32 weights and needs precision fp16-mixed");
      }
    }
    ParitySpec.Reference r = p.reference;
    if (r == null) {
      return;
    }
    if (r.steps == null) {
      c.fail("spec.parity.reference.steps", "is required");
    } else {
      c.atLeast("spec.parity.reference.steps", r.steps, 1);
      if (training != null && training.steps != null && r.steps > training.steps) {
        c.fail(
            "spec.parity.reference.steps",
            "must be at most spec.training.steps ("
                + training.steps
                + "): both runs are compared at that step (got "
                + r.steps
                + ")");
      }
    }
    c.require(
        Double.isFinite(r.maxAccuracyDrop) && r.maxAccuracyDrop >= 0,
        "spec.parity.reference.maxAccuracyDrop",
        "must be zero or positive, in percentage points (got " + r.maxAccuracyDrop + ")");
    c.require(
        Double.isFinite(r.maxRelativeLossGap) && r.maxRelativeLossGap >= 0,
        "spec.parity.reference.maxRelativeLossGap",
        "must be zero or positive (got " + r.maxRelativeLossGap + ")");
    c.atLeast("spec.parity.reference.windowSteps", r.windowSteps, 1);
    c.require(r.action != null, "spec.parity.reference.action", "must be warn or fail");
    if (precision == Precision.FP32) {
      c.fail(
          "spec.parity.reference",
          "compares a mixed-precision run with an FP32 reference; this job is fp32 already");
    }
  }

  /**
   * A gang scheduler's PodGroup holds one gang of a job: the reference gang beside it would need a
   * group of its own, which the operator does not create.
   */
  private static void besideWithGangScheduling(Checks c, MixedPrecisionJobSpec spec) {
    boolean beside =
        spec.parity != null
            && spec.parity.reference != null
            && spec.parity.reference.schedule == ParitySpec.Schedule.BESIDE;
    boolean gangScheduled =
        spec.runPolicy != null
            && spec.runPolicy.schedulingPolicy != null
            && spec.runPolicy.schedulingPolicy.scheduler != null;
    c.require(
        !(beside && gangScheduled),
        "spec.parity.reference.schedule",
        "beside runs a second gang, and spec.runPolicy.schedulingPolicy gang-schedules one gang"
            + " per job; use before, or drop schedulingPolicy");
  }

  private static void crossFields(Checks c, MixedPrecisionJobSpec spec) {
    if (spec.training != null
        && spec.training.globalBatchSize != null
        && spec.replicas != null
        && spec.training.globalBatchSize >= 1
        && spec.training.globalBatchSize < spec.replicas.min) {
      c.fail(
          "spec.training.globalBatchSize",
          "must be at least replicas.min ("
              + spec.training.globalBatchSize
              + " < "
              + spec.replicas.min
              + "): every replica needs at least one sample per step");
    }
    boolean syntheticCnn =
        spec.model != null
            && spec.model.architecture == ModelSpec.Architecture.CNN
            && spec.data != null
            && spec.data.source == DataSpec.Source.SYNTHETIC
            && spec.data.imageShape == null;
    if (syntheticCnn && DataShape.of(spec.data).cnnInput() == null) {
      c.fail(
          "spec.data.imageShape",
          "is required for cnn: "
              + DataShape.of(spec.data).features()
              + " features are not a square image");
    }
  }

  /**
   * Rank 0 keeps its checkpoint snapshot (CheckpointSize) in the JVM's direct memory, whose limit
   * is the heap's maximum unless set; the trainer image gives the heap half the pod's memory
   * (-XX:MaxRAMPercentage=50, trainer-image/src/main/docker/mpj-trainer). Below that the first
   * checkpoint fails, and every restart fails there again. A template that sets the trainer's JVM
   * options (MPJ_TRAINER_JAVA_OPTS) takes that over, and is not checked.
   */
  private static void hostMemory(Checks c, MixedPrecisionJobSpec spec) {
    if (spec.resources == null || spec.resources.memory == null || setsJavaOptions(spec)) {
      return;
    }
    DataShape shape = DataShape.of(spec.data);
    if (!shape.missingFor(spec.model).isEmpty()) {
      return;
    }
    long parameters = ModelParameters.count(spec.model, shape);
    TrainingSpec.Optimizer optimizer = spec.training == null ? null : spec.training.optimizer;
    if (parameters <= 0 || parameters > Long.MAX_VALUE / 16) {
      return; // a model this size fails elsewhere; no claim about its checkpoint here
    }
    long snapshot = CheckpointSize.snapshotBytes(parameters, optimizer);
    long least = CheckpointSize.leastPodMemoryBytes(snapshot);
    if (Quantity.getAmountInBytes(spec.resources.memory).compareTo(BigDecimal.valueOf(least))
        <= 0) {
      c.fail(
          "spec.resources.memory",
          String.format(
              Locale.ROOT,
              "%s cannot hold rank 0's checkpoint snapshot, %.2f GiB (the FP32 master weights and"
                  + " optimizer state, %d bytes for each of %,d parameters): the trainer keeps it in"
                  + " the JVM's direct memory, limited to half the pod's memory, so the first"
                  + " checkpoint would fail and every restart with it. Ask for more than %.2f GiB,"
                  + " leave the field unset, or set -XX:MaxDirectMemorySize in MPJ_TRAINER_JAVA_OPTS"
                  + " through spec.template.env",
              spec.resources.memory,
              snapshot / GIB,
              4 * CheckpointSize.valuesPerParameter(optimizer),
              parameters,
              least / GIB));
    }
  }

  private static final double GIB = 1L << 30;

  private static boolean setsJavaOptions(MixedPrecisionJobSpec spec) {
    return spec.template != null
        && spec.template.env != null
        && spec.template.env.stream()
            .anyMatch(e -> e != null && TrainerContract.ENV_JAVA_OPTS.equals(e.getName()));
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  /** Collects violations; one small vocabulary of checks so that messages read alike. */
  private static final class Checks {
    final List<Violation> violations = new ArrayList<>();

    void fail(String field, String message) {
      violations.add(new Violation(field, message));
    }

    void require(boolean ok, String field, String message) {
      if (!ok) {
        fail(field, message);
      }
    }

    void atLeast(String field, long value, long min) {
      require(value >= min, field, "must be at least " + min + " (got " + value + ")");
    }

    void positive(String field, double value) {
      require(Double.isFinite(value) && value > 0, field, "must be positive (got " + value + ")");
    }

    void fraction(String field, double value) {
      require(value >= 0 && value < 1, field, "must be in [0, 1) (got " + value + ")");
    }

    void quantity(String field, Quantity q) {
      if (q == null) {
        return;
      }
      try {
        if (Quantity.getAmountInBytes(q).signum() <= 0) {
          fail(field, "must be positive (got " + q + ")");
        }
      } catch (IllegalArgumentException e) {
        fail(field, "is not a Kubernetes quantity (got " + q + ")");
      }
    }
  }
}
