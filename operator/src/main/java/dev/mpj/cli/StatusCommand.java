package dev.mpj.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ProgressStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.SizingStatus;
import dev.mpj.operator.sizing.Bytes;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mpj status NAME}: a job's sizing, progress, parity and health at a glance. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Print a MixedPrecisionJob's sizing, progress, precision parity and health, as the operator last"
          + " recorded them in its status.",
      "Exit 0 when the job was found, 1 when it does not exist, 2 on bad input or an unreachable cluster."
    })
final class StatusCommand implements Callable<Integer> {

  /** Output formats. */
  enum Format {
    table,
    json,
    yaml
  }

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NAMESPACE",
      description = "The job's namespace (default: the kubeconfig context's, else default).")
  String namespace;

  @Option(names = "--context", paramLabel = "NAME", description = "The kubeconfig context.")
  String context;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "The kubeconfig file (default: $KUBECONFIG, ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table (default), json or yaml.")
  Format format = Format.table;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public Integer call() throws JsonProcessingException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    MixedPrecisionJob job;
    String ns;
    try (KubernetesClient client = KubeClients.connect(kubeconfig, context)) {
      ns =
          namespace != null
              ? namespace
              : client.getNamespace() != null ? client.getNamespace() : "default";
      job = client.resources(MixedPrecisionJob.class).inNamespace(ns).withName(name).get();
    } catch (IllegalArgumentException e) {
      err.println("status: " + e.getMessage());
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    } catch (KubernetesClientException e) {
      err.println("status: cannot read the cluster: " + e.getMessage());
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    }
    if (job == null) {
      err.println("status: no MixedPrecisionJob " + name + " in namespace " + ns);
      err.flush();
      return 1;
    }
    switch (format) {
      case json -> out.println(JSON.writeValueAsString(summary(job)));
      case yaml -> out.print(JobFiles.toYaml(summary(job)));
      case table -> lines(job).forEach(out::println);
    }
    out.flush();
    return 0;
  }

  /** The figures of {@code -o json|yaml}: the job's identity and the parts of its status. */
  static Map<String, Object> summary(MixedPrecisionJob job) {
    MixedPrecisionJobStatus s =
        job.getStatus() != null ? job.getStatus() : new MixedPrecisionJobStatus();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("namespace", job.getMetadata().getNamespace());
    m.put("name", job.getMetadata().getName());
    m.put("precision", job.getSpec().precision.value());
    m.put("phase", s.phase != null ? s.phase.name() : null);
    m.put("attempt", s.attempt);
    m.put("restarts", s.restarts);
    m.put("replicas", s.replicas);
    m.put("readyReplicas", s.readyReplicas);
    m.put("sizing", s.sizing);
    m.put("progress", s.progress);
    m.put("parity", s.parity);
    m.put("lastCheckpoint", s.lastCheckpoint);
    m.put("conditions", s.conditions);
    m.put("message", s.message);
    return m;
  }

  /** The job at a glance, one line per concern; a pure function of the job. */
  static List<String> lines(MixedPrecisionJob job) {
    MixedPrecisionJobStatus s =
        job.getStatus() != null ? job.getStatus() : new MixedPrecisionJobStatus();
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            Locale.ROOT,
            "Job %s: %s, %s, attempt %d (%d %s), %s/%s replicas ready",
            FleetReport.name(job),
            s.phase != null ? s.phase : "not reconciled yet",
            job.getSpec().precision,
            s.attempt,
            s.restarts,
            s.restarts == 1 ? "restart" : "restarts",
            s.readyReplicas != null ? s.readyReplicas : "-",
            s.replicas != null ? s.replicas : "-"));
    lines.add("Sizing:   " + sizing(s.sizing));
    lines.add("Progress: " + progress(s.progress));
    lines.add("Parity:   " + parity(s.parity, job));
    lines.add(
        "Checkpoint: "
            + (s.lastCheckpoint != null && s.lastCheckpoint.step != null
                ? "step "
                    + s.lastCheckpoint.step
                    + (s.lastCheckpoint.time != null ? " at " + s.lastCheckpoint.time : "")
                : "none yet"));
    lines.add("Health:   " + health(s.conditions));
    if (s.message != null) {
      lines.add("Message:  " + s.message);
    }
    return lines;
  }

  private static String sizing(SizingStatus z) {
    if (z == null) {
      return "not sized yet";
    }
    StringBuilder b = new StringBuilder();
    if (z.plan != null && z.plan.replicas != null) {
      b.append(
          String.format(
              Locale.ROOT,
              "%s, %d replicas x micro-batch %d x accumulation %d, %d GPUs",
              z.plan.precision,
              z.plan.replicas,
              z.plan.microBatch,
              z.plan.gradientAccumulation,
              z.plan.gpus));
      if (z.plan.bytesPerReplica != null) {
        b.append(", ").append(Bytes.format(z.plan.bytesPerReplica)).append(" per replica");
      }
    } else {
      b.append(z.reason != null ? z.reason : "no plan");
    }
    if (z.gpuMemoryBytes != null) {
      b.append(" on ")
          .append(Bytes.format(z.gpuMemoryBytes))
          .append(" GPUs (")
          .append(z.gpuMemorySource)
          .append(")");
    }
    if (z.gpusSaved != null && z.fp32 != null && z.fp32.gpus != null) {
      b.append("; saves ")
          .append(z.gpusSaved)
          .append(" of fp32's ")
          .append(z.fp32.gpus)
          .append(" GPUs");
    }
    return b.toString();
  }

  private static String progress(ProgressStatus p) {
    if (p == null || p.step == null) {
      return "no progress reported yet";
    }
    StringBuilder b = new StringBuilder("step " + String.format(Locale.ROOT, "%,d", p.step));
    if (p.totalSteps != null && p.totalSteps > 0) {
      b.append(
          String.format(
              Locale.ROOT, " of %,d (%.1f%%)", p.totalSteps, 100.0 * p.step / p.totalSteps));
    }
    if (p.loss != null) {
      b.append(String.format(Locale.ROOT, ", loss %.4g", p.loss));
    }
    if (p.lossScale != null) {
      b.append(String.format(Locale.ROOT, ", loss scale %.0f", p.lossScale));
    }
    if (p.skippedSteps != null) {
      b.append(", ").append(p.skippedSteps).append(" skipped");
    }
    if (p.samplesPerSecond != null) {
      b.append(String.format(Locale.ROOT, ", %.1f samples/s", p.samplesPerSecond));
    }
    if (p.updateTime != null) {
      b.append(" (").append(p.updateTime).append(")");
    }
    return b.toString();
  }

  private static String parity(ParityStatus p, MixedPrecisionJob job) {
    ParitySpec spec = job.getSpec().parity;
    if (spec == null) {
      return "no parity check (spec.parity unset)";
    }
    List<String> parts = new ArrayList<>();
    ParitySpec.WorkingWeights w = spec.workingWeightsCheck();
    if (w != null) {
      parts.add(workingWeights(p, w));
    }
    if (spec.reference != null) {
      ReferenceParityStatus r = p == null ? null : p.reference;
      parts.add(
          r == null || r.phase == null
              ? "reference: FP32 reference of " + spec.reference.steps + " steps to run first"
              : r.message != null ? r.message : "reference: " + r.phase);
    }
    return String.join("; ", parts);
  }

  private static String workingWeights(ParityStatus p, ParitySpec.WorkingWeights w) {
    if (p == null || p.relativeGap == null) {
      return "working weights: no check yet (every " + w.intervalSteps + " steps)";
    }
    return String.format(
        Locale.ROOT,
        "working weights, step %d: fp16 loss %.4g, fp32 loss %.4g, gap %.2f%% %s %.2f%% (action %s)",
        p.step,
        p.fp16Loss,
        p.fp32Loss,
        100 * p.relativeGap,
        Boolean.TRUE.equals(p.withinBound) ? "within" : "OUTSIDE",
        100 * w.maxRelativeGap,
        w.action.name().toLowerCase(Locale.ROOT));
  }

  private static String health(List<Condition> conditions) {
    if (conditions == null || conditions.isEmpty()) {
      return "no conditions yet";
    }
    List<String> parts = new ArrayList<>();
    for (Condition c : conditions) {
      parts.add(
          c.getType()
              + "="
              + c.getStatus()
              + (c.getReason() != null && "True".equals(c.getStatus())
                  ? " (" + c.getReason() + ")"
                  : ""));
    }
    return String.join(", ", parts);
  }
}
