package dev.mpj.cli;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.planning.Estimate;
import dev.mpj.operator.planning.FleetManifests;
import dev.mpj.operator.planning.FleetPlanner.FleetPlan;
import dev.mpj.operator.planning.FleetPlanner.JobOnTarget;
import dev.mpj.operator.planning.FleetPlanner.JobPlan;
import dev.mpj.operator.planning.FleetPlanner.TargetTotals;
import dev.mpj.operator.planning.FleetPlanner.UnsizedJob;
import dev.mpj.operator.planning.GpuType;
import dev.mpj.operator.planning.PlanTarget;
import dev.mpj.operator.planning.TrainingFlops;
import dev.mpj.operator.sizing.PrecisionSizing;
import java.io.PrintWriter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prints a fleet plan as a text table, Markdown, HTML with a chart, or JSON of the schema in
 * docs/reference/fleet-plan.schema.json.
 */
final class FleetOutput {

  /** The value of "schema" in the JSON; a new value for any change that is not an addition. */
  static final String SCHEMA = "mpj.dev/fleet-plan/v1";

  private FleetOutput() {}

  static void text(PrintWriter out, List<FleetReport.Block> blocks) {
    boolean first = true;
    for (FleetReport.Block block : blocks) {
      if (!first) {
        out.println();
      }
      first = false;
      if (block instanceof FleetReport.Heading h) {
        out.println(h.text());
      } else if (block instanceof FleetReport.Paragraph p) {
        out.println(p.text());
      } else if (block instanceof FleetReport.Table t) {
        t.table().print(out);
      }
    }
  }

  static void markdown(PrintWriter out, List<FleetReport.Block> blocks, FleetManifests manifests) {
    boolean first = true;
    for (FleetReport.Block block : blocks) {
      if (block instanceof FleetReport.Heading h) {
        out.println((first ? "### " : "#### ") + h.text());
      } else if (block instanceof FleetReport.Paragraph p) {
        out.println(p.text());
      } else if (block instanceof FleetReport.Table t) {
        t.table().printMarkdown(out);
      }
      out.println();
      first = false;
    }
    problems(manifests, out, "- ");
  }

  static void html(
      PrintWriter out, List<FleetReport.Block> blocks, FleetPlan plan, FleetManifests manifests) {
    out.println("<!DOCTYPE html>");
    out.println("<html><head><meta charset=\"utf-8\"><title>MPJ fleet plan</title>");
    out.println(
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            + "td,th{border:1px solid #ccc;padding:3px 8px}td.n{text-align:right}</style>");
    out.println("</head><body>");
    int target = 0;
    boolean first = true;
    for (FleetReport.Block block : blocks) {
      if (block instanceof FleetReport.Heading h) {
        boolean onTarget = h.text().startsWith("On ");
        out.println(
            (first ? "<h1>" : "<h2>")
                + TextTable.Html.escape(h.text())
                + (first ? "</h1>" : "</h2>"));
        if (onTarget && !plan.jobs().isEmpty() && target < plan.targets().size()) {
          out.println(
              "<img alt=\"GPUs per job and precision on "
                  + TextTable.Html.escape(plan.targets().get(target).name())
                  + "\" src=\"data:image/png;base64,"
                  + Base64.getEncoder().encodeToString(FleetChart.png(plan, target))
                  + "\">");
          target++;
        }
      } else if (block instanceof FleetReport.Paragraph p) {
        out.println("<p>" + TextTable.Html.escape(p.text()) + "</p>");
      } else if (block instanceof FleetReport.Table t) {
        t.table().printHtml(out);
      }
      first = false;
    }
    if (!manifests.invalid().isEmpty() || !manifests.skipped().isEmpty()) {
      out.println("<h2>Not planned</h2><ul>");
      java.io.StringWriter items = new java.io.StringWriter();
      problems(manifests, new PrintWriter(items), "");
      items
          .toString()
          .lines()
          .forEach(l -> out.println("<li>" + TextTable.Html.escape(l) + "</li>"));
      out.println("</ul>");
    }
    out.println("</body></html>");
  }

  /** Invalid and skipped documents, one line each. */
  static void problems(FleetManifests manifests, PrintWriter out, String prefix) {
    for (FleetManifests.InvalidDocument d : manifests.invalid()) {
      out.println(
          prefix
              + "invalid job "
              + (d.name() != null ? d.name() + " " : "")
              + "in "
              + d.source()
              + ": "
              + FleetReport.violations(d.violations()));
    }
    for (FleetManifests.SkippedDocument d : manifests.skipped()) {
      out.println(prefix + "skipped " + d.source() + ": " + d.note());
    }
    out.flush();
  }

  static Map<String, Object> json(FleetPlan plan, FleetManifests manifests) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("schema", SCHEMA);
    Map<String, Object> assumptions = new LinkedHashMap<>();
    assumptions.put("utilization", plan.assumptions().utilization());
    assumptions.put("trainingFlopsPerMultiplyAdd", TrainingFlops.PER_MULTIPLY_ADD);
    assumptions.put("pricePerGpuHour", new LinkedHashMap<>(plan.assumptions().pricePerGpuHour()));
    assumptions.put(
        "note",
        "time and cost are estimates: training FLOPs at the assumed fraction of the GPU's peak dense"
            + " throughput, perfect scaling, no data loading, checkpoint or restart time");
    root.put("assumptions", assumptions);
    root.put("gpus", plan.targets().stream().map(FleetOutput::json).toList());
    root.put("jobs", plan.jobs().stream().map(FleetOutput::json).toList());
    root.put("totals", plan.totals().stream().map(FleetOutput::json).toList());
    root.put(
        "unsized",
        plan.unsized().stream()
            .map(
                (UnsizedJob u) -> {
                  Map<String, Object> m = identity(u.document().source(), u.document().job());
                  m.put("missing", u.missing());
                  return m;
                })
            .toList());
    root.put(
        "invalid",
        manifests.invalid().stream()
            .map(
                d -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("source", d.source());
                  m.put("name", d.name());
                  m.put(
                      "violations",
                      d.violations().stream()
                          .map(v -> Map.of("field", v.field(), "message", v.message()))
                          .toList());
                  return m;
                })
            .toList());
    root.put(
        "skipped",
        manifests.skipped().stream()
            .map(
                d -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("source", d.source());
                  m.put("note", d.note());
                  return m;
                })
            .toList());
    return root;
  }

  private static Map<String, Object> json(PlanTarget t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", t.name());
    m.put("memoryBytes", t.memoryBytes());
    GpuType g = t.gpu();
    m.put("architecture", g != null ? g.architecture() : null);
    m.put("tensorCoreFormats", g != null ? g.tensorCoreFormats() : null);
    m.put("peakFp32Tflops", g != null ? g.peakFp32Tflops() : null);
    m.put("peakFp16Tflops", g != null ? g.peakFp16Tflops() : null);
    return m;
  }

  private static Map<String, Object> identity(String source, MixedPrecisionJob job) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("source", source);
    m.put("namespace", job.getMetadata().getNamespace());
    m.put("name", job.getMetadata().getName());
    return m;
  }

  private static Map<String, Object> json(JobPlan job) {
    MixedPrecisionJob j = job.document().job();
    Map<String, Object> m = identity(job.document().source(), j);
    m.put("architecture", j.getSpec().model.architecture.name().toLowerCase(java.util.Locale.ROOT));
    m.put("precision", j.getSpec().precision.value());
    m.put("parameters", job.parameters());
    m.put("globalBatchSize", j.getSpec().training.globalBatchSize);
    m.put("trainingFlopsPerSample", job.flopsPerSample());
    m.put("steps", job.steps());
    m.put("plans", job.targets().stream().map(FleetOutput::json).toList());
    return m;
  }

  private static Map<String, Object> json(JobOnTarget on) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("gpu", on.target().name());
    m.put("gpuMemoryBytes", on.sizing().gpuMemory().bytes());
    m.put("gpuMemorySource", on.sizing().gpuMemory().source());
    m.put("fp32", json(on.sizing().fp32(), on.fp32Estimate()));
    m.put("fp16Mixed", json(on.sizing().fp16Mixed(), on.fp16MixedEstimate()));
    m.put("gpusSaved", on.sizing().gpusSavedByMixed());
    return m;
  }

  private static Map<String, Object> json(PrecisionSizing p, Estimate e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runs", p.runs());
    m.put("fits", p.memoryFits());
    m.put("outcome", p.outcome().reason());
    m.put("bytesPerReplica", p.bytesPerReplica().total());
    m.put("maxMicroBatch", p.maxMicroBatch());
    boolean split = p.split() != null && p.runs();
    m.put("replicas", split ? p.split().replicas() : null);
    m.put("microBatch", split ? p.split().microBatch() : null);
    m.put("gradientAccumulation", split ? p.split().gradientAccumulation() : null);
    m.put("gpus", split ? p.gpus() : null);
    m.put("message", p.message());
    if (e == null) {
      m.put("estimate", null);
    } else {
      Map<String, Object> est = new LinkedHashMap<>();
      est.put("stepSeconds", e.stepSeconds());
      est.put("hours", e.hours());
      est.put("gpuHours", e.gpuHours());
      est.put("cost", e.cost());
      m.put("estimate", est);
    }
    return m;
  }

  private static Map<String, Object> json(TargetTotals t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("gpu", t.target().name());
    m.put("jobs", t.jobs());
    m.put("fp32", totals(t.runFp32(), t.gpusFp32(), t.gpuHoursFp32(), t.costFp32()));
    m.put(
        "asWritten",
        totals(t.runAsWritten(), t.gpusAsWritten(), t.gpuHoursAsWritten(), t.costAsWritten()));
    m.put(
        "fp16Mixed",
        totals(t.runFp16Mixed(), t.gpusFp16Mixed(), t.gpuHoursFp16Mixed(), t.costFp16Mixed()));
    m.put("gpusSaved", t.gpusSavedByMixed());
    return m;
  }

  private static Map<String, Object> totals(int jobs, int gpus, Double gpuHours, Double cost) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("jobsThatRun", jobs);
    m.put("gpus", gpus);
    m.put("gpuHours", gpuHours);
    m.put("cost", cost);
    return m;
  }
}
