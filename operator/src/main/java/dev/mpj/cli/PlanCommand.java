package dev.mpj.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.api.CheckpointSize;
import dev.mpj.api.DataShape;
import dev.mpj.api.DataSpec;
import dev.mpj.api.DataTask;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.operator.resources.ReferenceGang;
import dev.mpj.operator.sizing.Bytes;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.GpuMemory;
import dev.mpj.operator.sizing.JobSizing;
import dev.mpj.operator.sizing.MemoryBreakdown;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.PrecisionSizing;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mpj plan}: the sizing plan of a job in both precisions, without a cluster. */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "Print the sizing plan of a job (replicas, micro-batch, accumulation, GPUs saved) without a cluster:"
          + " FP32 beside FP16 mixed precision, with the memory of one replica broken down.",
      "Exit 0 when the job can run in its own precision (\"fits\" in the JSON), 1 when it cannot, 2 on bad input.",
      "",
      "With several files, a folder, - (standard input), a multi-document file, --gpu, --cluster or"
          + " -o markdown|html: plan the fleet of every MixedPrecisionJob found (docs/operations/capacity-planning.md)."
          + " Exit 0 when every job was planned, 3 when some documents were invalid (reported on standard error,"
          + " the others planned), 2 on bad input or when nothing could be planned."
    })
final class PlanCommand implements Callable<Integer> {

  /** Output formats. */
  enum Format {
    table,
    json,
    markdown,
    html
  }

  @Option(
      names = {"-f", "--file"},
      arity = "1..*",
      paramLabel = "JOB.yaml",
      description =
          "The MixedPrecisionJob manifest; several files, folders and - (standard input) plan a fleet.")
  List<String> files = new ArrayList<>();

  /** The one manifest of a single-job plan. */
  Path file;

  @Option(
      names = "--gpu-memory",
      paramLabel = "SIZE",
      converter = MemoryConverter.class,
      description =
          "Plan for GPUs of this memory (e.g. 80Gi), instead of spec.resources.gpuMemory or the default (16Gi).")
  Long gpuMemoryBytes;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table (default), json, or for a fleet also markdown and html (with a chart).")
  Format format = Format.table;

  @Option(
      names = "--gpu",
      split = ",",
      paramLabel = "NAME",
      description =
          "Plan the fleet on these GPU models of the catalog: T4, V100-16GB, V100-32GB, A10, L4, L40S,"
              + " A100-40GB, A100-80GB, H100-80GB, H200-141GB (and --catalog's).")
  List<String> gpus = new ArrayList<>();

  @Option(
      names = "--catalog",
      paramLabel = "FILE",
      description = "A YAML file of GPU entries that adds to or overrides the built-in catalog.")
  Path catalog;

  @Option(
      names = "--utilization",
      paramLabel = "FRACTION",
      description =
          "Fraction of a GPU's peak dense throughput the time estimates assume (default 0.4).")
  Double utilization;

  @Option(
      names = "--price",
      paramLabel = "GPU=PER_HOUR",
      description = "Price of one GPU-hour for the cost estimates, e.g. --price H100-80GB=4.5.")
  Map<String, Double> prices = new LinkedHashMap<>();

  @Option(
      names = "--cluster",
      description =
          "Plan against the cluster of the kubeconfig: its nodes' GPUs (NVIDIA GPU feature discovery"
              + " labels) and its MixedPrecisionJobs.")
  boolean cluster;

  @Option(
      names = "--context",
      paramLabel = "NAME",
      description = "The kubeconfig context for --cluster.")
  String context;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "The kubeconfig file for --cluster (default: $KUBECONFIG, ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NAMESPACE",
      description = "With --cluster, only the jobs of this namespace (default: all namespaces).")
  String namespace;

  @Option(
      names = "--features",
      paramLabel = "N",
      converter = PositiveConverter.class,
      description = "Features per sample, for csv or npz data (only their file says).")
  Integer features;

  @Option(
      names = "--classes",
      paramLabel = "N",
      converter = PositiveConverter.class,
      description =
          "Classes of csv or npz classification data whose spec does not state them"
              + " (data.csv.classes, data.npz.classes); a regression task's single output comes"
              + " from the spec's data.csv.task or data.npz.task.")
  Integer classes;

  @Option(
      names = "--free-gpus",
      paramLabel = "N",
      converter = NonNegativeConverter.class,
      description = "Plan as if N GPUs were free (default: GPUs are not counted).")
  Integer freeGpus;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** What {@code -f -} reads; tests replace it. */
  InputStream stdin = System.in;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public Integer call() throws JsonProcessingException {
    if (isFleet()) {
      return FleetPlanning.run(this);
    }
    file = Path.of(files.get(0));
    MixedPrecisionJob job = JobFiles.read(file);
    MixedPrecisionJobSpec jobSpec = job.getSpec();
    DataShape shape = DataShape.of(jobSpec.data);
    PrintWriter err = spec.commandLine().getErr();
    if (classes != null && shape.outputs() != null && !classes.equals(shape.outputs())) {
      err.printf(
          "plan: --classes %d disagrees with the spec, whose head has %d %s (%s)%n",
          classes,
          shape.outputs(),
          shape.outputs() == 1 ? "output" : "outputs",
          DataTask.of(jobSpec.data, jobSpec.model.architecture) == DataSpec.Task.REGRESSION
              ? DataTask.field(jobSpec.data, "task").substring("spec.".length()) + ": regression"
              : DataTask.field(jobSpec.data, "classes").substring("spec.".length()));
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    }
    if (features != null) {
      shape = shape.withFeatures(features);
    }
    if (classes != null) {
      shape = shape.withOutputs(classes);
    }
    List<String> missing = shape.missingFor(jobSpec.model);
    if (!missing.isEmpty()) {
      String statedClasses = DataTask.field(jobSpec.data, "classes").substring("spec.".length());
      List<String> remedies =
          missing.stream()
              .map(
                  m ->
                      m.equals("features")
                          ? "pass --features N"
                          : m.equals("classes")
                              ? "pass --classes N (or state " + statedClasses + ")"
                              : "set data.imageShape")
              .distinct()
              .toList();
      err.printf(
          "plan: the %s needs the data's %s, which the spec does not give (data.source %s): %s%n",
          jobSpec.model.architecture.name().toLowerCase(Locale.ROOT),
          String.join(" and ", missing),
          jobSpec.data.source.name().toLowerCase(Locale.ROOT),
          String.join(" and ", remedies));
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    }
    MemorySizer sizer = new MemorySizer(SizingSettings.defaults());
    GpuMemory gpu =
        gpuMemoryBytes != null
            ? new GpuMemory(gpuMemoryBytes, GpuMemory.FLAG)
            : GpuMemory.resolve(jobSpec, ClusterCapacity.unknown(), sizer.settings());
    JobSizing sizing = sizer.size(jobSpec, shape, gpu, freeGpus);
    PrintWriter out = spec.commandLine().getOut();
    if (format == Format.json) {
      out.println(JSON.writeValueAsString(json(job, sizing, sizer.settings())));
    } else {
      table(out, job, sizing, sizer.settings());
    }
    out.flush();
    return sizing.job().runs() ? 0 : 1;
  }

  /**
   * A fleet plan rather than the plan of one job: several manifests, a folder, standard input, a
   * file of several documents, or an option only a fleet plan has.
   */
  private boolean isFleet() {
    if (files.size() != 1 || cluster || !gpus.isEmpty() || catalog != null) {
      return true;
    }
    if (utilization != null
        || !prices.isEmpty()
        || format == Format.markdown
        || format == Format.html) {
      return true;
    }
    Path only = Path.of(files.get(0));
    return files.get(0).equals("-") || Files.isDirectory(only) || FleetFiles.documents(only) > 1;
  }

  private static Map<String, Object> json(
      MixedPrecisionJob job, JobSizing sizing, SizingSettings settings) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("job", job.getMetadata().getName());
    root.put("architecture", job.getSpec().model.architecture.name().toLowerCase(Locale.ROOT));
    root.put("precision", sizing.precision().value());
    root.put("parameters", sizing.parameters());
    root.put("globalBatchSize", job.getSpec().training.globalBatchSize);
    root.put("gpuMemoryBytes", sizing.gpuMemory().bytes());
    root.put("gpuMemorySource", sizing.gpuMemory().source());
    root.put("overheadBytes", settings.overheadBytes(sizing.gpuMemory().bytes()));
    root.put("freeGpus", sizing.freeGpus());
    root.put("fits", sizing.job().runs());
    root.put("fp32", json(sizing.fp32()));
    root.put("fp16Mixed", json(sizing.fp16Mixed()));
    root.put("gpusSaved", sizing.gpusSavedByMixed());
    root.put("memorySavedPerReplicaBytes", sizing.memorySavedPerReplicaBytes());
    long snapshot =
        CheckpointSize.snapshotBytes(sizing.parameters(), job.getSpec().training.optimizer);
    root.put("checkpointSnapshotBytes", snapshot);
    root.put("leastPodMemoryBytes", CheckpointSize.leastPodMemoryBytes(snapshot));
    root.put("message", sizing.job().message());
    if (ReferenceGang.beside(job)) {
      Map<String, Object> reference = new LinkedHashMap<>();
      reference.put("steps", job.getSpec().parity.reference.steps);
      reference.put("fits", sizing.fp32().runs());
      reference.put("gpus", referenceGpus(sizing));
      reference.put("gpusWhileBothRun", gpusWhileBothRun(sizing));
      root.put("referenceBeside", reference);
    }
    return root;
  }

  /**
   * GPUs of the FP32 reference gang that parity.reference.schedule beside runs next to the job: the
   * job's FP32 plan, as the operator sizes that gang; null when FP32 does not fit.
   */
  static Integer referenceGpus(JobSizing sizing) {
    return sizing.fp32().split() != null ? sizing.fp32().gpus() : null;
  }

  /** The job's GPUs and its beside reference's together; null when either does not fit. */
  static Integer gpusWhileBothRun(JobSizing sizing) {
    Integer reference = referenceGpus(sizing);
    return reference == null || sizing.job().split() == null
        ? null
        : sizing.job().gpus() + reference;
  }

  private static Map<String, Object> json(PrecisionSizing p) {
    MemoryBreakdown b = p.bytesPerReplica();
    Map<String, Object> bytes = new LinkedHashMap<>();
    bytes.put("weights", b.weights());
    bytes.put("masterWeights", b.masterWeights());
    bytes.put("gradients", b.gradients());
    bytes.put("optimizerState", b.optimizerState());
    bytes.put("updateTemporaries", b.updateTemporaries());
    bytes.put("activations", b.activations());
    bytes.put("overhead", b.overhead());
    bytes.put("total", b.total());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("fits", p.runs());
    m.put("outcome", p.outcome().reason());
    m.put("bytesPerReplica", bytes);
    m.put("activationBytesPerSample", p.activationBytesPerSample());
    m.put("maxMicroBatch", p.maxMicroBatch());
    m.put("microBatch", p.split() != null ? p.split().microBatch() : null);
    m.put("replicas", p.split() != null ? p.split().replicas() : null);
    m.put("gradientAccumulation", p.split() != null ? p.split().gradientAccumulation() : null);
    m.put("gpus", p.split() != null ? p.gpus() : null);
    m.put("message", p.message());
    return m;
  }

  private static void table(
      PrintWriter out, MixedPrecisionJob job, JobSizing sizing, SizingSettings settings) {
    MixedPrecisionJobSpec s = job.getSpec();
    out.printf(
        Locale.ROOT,
        "Job %s: %s, %,d trainable parameters, %s optimizer, global batch %d, replicas %d..%d, precision %s%n",
        job.getMetadata().getName(),
        s.model.architecture.name().toLowerCase(Locale.ROOT),
        sizing.parameters(),
        s.training.optimizer.type.name().toLowerCase(Locale.ROOT),
        s.training.globalBatchSize,
        s.replicas.min,
        s.replicas.max,
        sizing.precision());
    long overhead = settings.overheadBytes(sizing.gpuMemory().bytes());
    out.printf(
        Locale.ROOT,
        "GPU memory %s (%s); reserve %s for CUDA context, workspaces and fragmentation%s%n%n",
        Bytes.format(sizing.gpuMemory().bytes()),
        sizing.gpuMemory().source(),
        Bytes.format(overhead),
        sizing.freeGpus() != null ? "; " + sizing.freeGpus() + " GPUs free" : "");
    PrecisionSizing a = sizing.fp32();
    PrecisionSizing b = sizing.fp16Mixed();
    String format = "%-26s %16s %16s%n";
    out.printf(format, "per replica", "fp32", "fp16-mixed");
    row(out, format, "weights", a, b, p -> Bytes.format(p.bytesPerReplica().weights()));
    row(
        out,
        format,
        "fp32 master weights",
        a,
        b,
        p -> Bytes.format(p.bytesPerReplica().masterWeights()));
    row(out, format, "gradients", a, b, p -> Bytes.format(p.bytesPerReplica().gradients()));
    row(
        out,
        format,
        "optimizer state",
        a,
        b,
        p -> Bytes.format(p.bytesPerReplica().optimizerState()));
    row(
        out,
        format,
        "update temporaries",
        a,
        b,
        p -> Bytes.format(p.bytesPerReplica().updateTemporaries()));
    row(out, format, "activations", a, b, p -> Bytes.format(p.bytesPerReplica().activations()));
    row(out, format, "reserve", a, b, p -> Bytes.format(p.bytesPerReplica().overhead()));
    row(out, format, "total", a, b, p -> Bytes.format(p.bytesPerReplica().total()));
    out.println();
    row(
        out,
        format,
        "activations per sample",
        a,
        b,
        p -> Bytes.format(p.activationBytesPerSample()));
    row(out, format, "max micro-batch", a, b, p -> String.valueOf(p.maxMicroBatch()));
    row(
        out,
        format,
        "micro-batch",
        a,
        b,
        p -> p.split() != null ? String.valueOf(p.split().microBatch()) : "-");
    row(
        out,
        format,
        "gradient accumulation",
        a,
        b,
        p -> p.split() != null ? String.valueOf(p.split().gradientAccumulation()) : "-");
    row(
        out,
        format,
        "replicas",
        a,
        b,
        p -> p.split() != null ? String.valueOf(p.split().replicas()) : "-");
    row(out, format, "GPUs", a, b, p -> p.split() != null ? String.valueOf(p.gpus()) : "-");
    out.println();
    out.println("fp32:       " + a.message());
    out.println("fp16-mixed: " + b.message());
    Integer saved = sizing.gpusSavedByMixed();
    if (saved != null) {
      int microBatch = sizing.job().split().microBatch();
      long bytesSaved = sizing.memorySavedPerReplicaBytes();
      // A small model at a small micro-batch can need more in FP16 mixed: its update temporaries
      // (4 pieces against 2 with Adam) are larger than the activations it halves.
      String memory =
          bytesSaved >= 0
              ? Bytes.format(bytesSaved) + " per replica"
              : "needs " + Bytes.format(-bytesSaved) + " more per replica";
      out.printf(
          Locale.ROOT,
          "fp16-mixed saves %d %s and %s (at micro-batch %d) against fp32.%n",
          saved,
          Math.abs(saved) == 1 ? "GPU" : "GPUs",
          memory,
          microBatch);
    }
    long snapshot =
        CheckpointSize.snapshotBytes(sizing.parameters(), job.getSpec().training.optimizer);
    out.printf(
        Locale.ROOT,
        "host memory: rank 0 keeps a %s checkpoint snapshot in the JVM's direct memory; a pod needs"
            + " more than %s (spec.resources.memory: %s).%n",
        Bytes.format(snapshot),
        Bytes.format(CheckpointSize.leastPodMemoryBytes(snapshot)),
        job.getSpec().resources != null && job.getSpec().resources.memory != null
            ? job.getSpec().resources.memory
            : "unset");
    if (ReferenceGang.beside(job)) {
      int steps = job.getSpec().parity.reference.steps;
      Integer both = gpusWhileBothRun(sizing);
      if (both != null) {
        out.printf(
            Locale.ROOT,
            "parity.reference.schedule beside: an FP32 reference gang of %d GPUs runs beside the"
                + " job for its first %d steps: %d GPUs while both run.%n",
            referenceGpus(sizing),
            steps,
            both);
      } else {
        out.println(
            "parity.reference.schedule beside: the FP32 reference gang does not fit: "
                + a.message());
      }
    }
  }

  private static void row(
      PrintWriter out,
      String format,
      String label,
      PrecisionSizing a,
      PrecisionSizing b,
      Function<PrecisionSizing, String> value) {
    out.printf(format, label, value.apply(a), value.apply(b));
  }

  /**
   * A Kubernetes memory quantity such as 80Gi, in bytes; anything else is refused with the flag's
   * name.
   */
  static final class MemoryConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      long bytes;
      try {
        bytes = Quantity.getAmountInBytes(new Quantity(value)).longValue();
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a memory size such as 24Gi or 80Gi");
      }
      if (bytes <= 0) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' must be a positive memory size such as 80Gi");
      }
      return bytes;
    }
  }

  /** An integer of at least 1. */
  static final class PositiveConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return atLeast(value, 1);
    }
  }

  /** An integer of at least 0. */
  static final class NonNegativeConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return atLeast(value, 0);
    }
  }

  private static int atLeast(String value, int min) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n >= min) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below, with the same message
    }
    throw new CommandLine.TypeConversionException(
        "'" + value + "' must be a whole number of at least " + min);
  }
}
