package dev.mpj.cli;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.planning.Estimate;
import dev.mpj.operator.planning.FleetManifests;
import dev.mpj.operator.planning.FleetPlanner.FleetPlan;
import dev.mpj.operator.planning.FleetPlanner.JobOnTarget;
import dev.mpj.operator.planning.FleetPlanner.JobPlan;
import dev.mpj.operator.planning.FleetPlanner.TargetTotals;
import dev.mpj.operator.planning.FleetPlanner.UnsizedJob;
import dev.mpj.operator.planning.GpuType;
import dev.mpj.operator.planning.PlanTarget;
import dev.mpj.operator.sizing.Bytes;
import dev.mpj.operator.sizing.PrecisionSizing;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A fleet plan as headings, paragraphs and tables, which {@link FleetOutput} prints as text,
 * Markdown or HTML.
 */
final class FleetReport {

  sealed interface Block permits Heading, Paragraph, Table {}

  record Heading(String text) implements Block {}

  record Paragraph(String text) implements Block {}

  record Table(TextTable table) implements Block {}

  private FleetReport() {}

  static List<Block> blocks(FleetPlan plan, FleetManifests manifests) {
    List<Block> blocks = new ArrayList<>();
    blocks.add(
        new Heading(
            String.format(
                Locale.ROOT,
                "Fleet plan: %d %s planned, %d not sized, %d invalid, %d skipped",
                plan.jobs().size(),
                plan.jobs().size() == 1 ? "job" : "jobs",
                plan.unsized().size(),
                manifests.invalid().size(),
                manifests.skipped().size())));
    List<GpuType> gpus =
        plan.targets().stream().map(PlanTarget::gpu).filter(g -> g != null).toList();
    if (!gpus.isEmpty()) {
      TextTable catalog =
          new TextTable(
              "GPU",
              "MEMORY",
              "ARCHITECTURE",
              "TENSOR CORES",
              "FP32 TFLOPS",
              "FP16 TFLOPS",
              "$/GPU-HOUR");
      for (GpuType g : gpus) {
        Double price = plan.assumptions().pricePerGpuHour().get(g.name().toUpperCase(Locale.ROOT));
        catalog.row(
            g.name(),
            Bytes.format(g.memoryBytes()),
            g.architecture(),
            g.tensorCoreFormats().isEmpty() ? "-" : String.join(", ", g.tensorCoreFormats()),
            number(g.peakFp32Tflops()),
            g.peakFp16Tflops() != null ? number(g.peakFp16Tflops()) : "-",
            price != null ? money(price) : "-");
      }
      blocks.add(new Table(catalog));
      blocks.add(
          new Paragraph(
              "Fast precisions: fp16-mixed runs on the tensor cores of every GPU that lists fp16; the trainer"
                  + " runs fp32 and fp16-mixed (bf16 and fp8 are what the GPU offers, not what MPJ trains in)."));
    }
    if (plan.targets().size() > 1 && !plan.jobs().isEmpty()) {
      List<String> header = new ArrayList<>(List.of("GPUS NEEDED (FP32 / FP16-MIXED)"));
      plan.targets().forEach(t -> header.add(t.name()));
      TextTable matrix = new TextTable(header.toArray(String[]::new));
      for (JobPlan job : plan.jobs()) {
        List<String> row = new ArrayList<>(List.of(name(job.document().job())));
        for (JobOnTarget on : job.targets()) {
          row.add(gpus(on.sizing().fp32()) + " / " + gpus(on.sizing().fp16Mixed()));
        }
        matrix.row(row.toArray(String[]::new));
      }
      List<String> total = new ArrayList<>(List.of("total"));
      plan.totals().forEach(t -> total.add(t.gpusFp32() + " / " + t.gpusFp16Mixed()));
      matrix.row(total.toArray(String[]::new));
      blocks.add(new Table(matrix));
      blocks.add(
          new Paragraph(
              "\"-\": does not fit one GPU even at micro-batch 1 (or the global batch cannot be split);"
                  + " totals count the jobs that run."));
    }
    for (int t = 0; t < plan.targets().size(); t++) {
      target(blocks, plan, t);
    }
    if (!plan.unsized().isEmpty()) {
      blocks.add(new Heading("Not sized"));
      for (UnsizedJob u : plan.unsized()) {
        blocks.add(
            new Paragraph(
                String.format(
                    Locale.ROOT,
                    "%s (%s): the %s needs the data's %s, which only its file says; plan it alone with"
                        + " mpj plan -f FILE --features N --classes N",
                    name(u.document().job()),
                    u.document().source(),
                    u.document().job().getSpec().model.architecture.name().toLowerCase(Locale.ROOT),
                    String.join(" and ", u.missing()))));
      }
    }
    return blocks;
  }

  private static void target(List<Block> blocks, FleetPlan plan, int t) {
    PlanTarget target = plan.targets().get(t);
    TargetTotals totals = plan.totals().get(t);
    blocks.add(
        new Heading(
            target.memoryBytes() == null
                ? "On each job's own GPU memory (spec.resources.gpuMemory, else the operator's default)"
                : "On " + target.name() + " (" + Bytes.format(target.memoryBytes()) + " per GPU)"));
    TextTable jobs =
        new TextTable(
            "JOB",
            "PRECISION",
            "PARAMETERS",
            "GPU MEMORY",
            "FP32 REPLICAS",
            "GPUS",
            "PER REPLICA",
            "FP16-MIXED REPLICAS",
            "GPUS",
            "PER REPLICA",
            "GPUS SAVED");
    for (JobPlan job : plan.jobs()) {
      JobOnTarget on = job.targets().get(t);
      PrecisionSizing a = on.sizing().fp32();
      PrecisionSizing b = on.sizing().fp16Mixed();
      Integer saved = on.sizing().gpusSavedByMixed();
      jobs.row(
          name(job.document().job()),
          on.sizing().precision().value(),
          count(job.parameters()),
          Bytes.format(on.sizing().gpuMemory().bytes()),
          replicas(a),
          gpus(a),
          Bytes.format(a.bytesPerReplica().total()),
          replicas(b),
          gpus(b),
          Bytes.format(b.bytesPerReplica().total()),
          saved != null ? String.valueOf(saved) : "-");
    }
    jobs.row(
        "total",
        "",
        "",
        "",
        "",
        String.valueOf(totals.gpusFp32()),
        "",
        "",
        String.valueOf(totals.gpusFp16Mixed()),
        "",
        String.valueOf(totals.gpusSavedByMixed()));
    blocks.add(new Table(jobs));
    blocks.add(
        new Paragraph(
            String.format(
                Locale.ROOT,
                "%d of %d jobs run in fp32 on %d GPUs, %d in fp16-mixed on %d GPUs; as written (each job in"
                    + " its own precision) %d run on %d GPUs; fp16-mixed saves %d against fp32."
                    + " \"-\": does not fit one GPU; per replica: predicted memory at the planned micro-batch"
                    + " (at micro-batch 1 when it does not fit).",
                totals.runFp32(),
                totals.jobs(),
                totals.gpusFp32(),
                totals.runFp16Mixed(),
                totals.gpusFp16Mixed(),
                totals.runAsWritten(),
                totals.gpusAsWritten(),
                totals.gpusSavedByMixed())));
    if (target.gpu() == null) {
      blocks.add(
          new Paragraph(
              "No time or cost estimates without a GPU model: pass --gpu NAME (mpj plan --help lists them)."));
      return;
    }
    boolean priced = totals.costFp32() != null || totals.costFp16Mixed() != null;
    List<String> header =
        new ArrayList<>(
            List.of(
                "ESTIMATES (JOB)",
                "STEPS",
                "GFLOP/SAMPLE",
                "FP32 STEP",
                "FP32 GPU-HOURS",
                "FP16-MIXED STEP",
                "FP16-MIXED GPU-HOURS"));
    if (priced) {
      header.addAll(List.of("FP32 COST", "FP16-MIXED COST"));
    }
    TextTable estimates = new TextTable(header.toArray(String[]::new));
    for (JobPlan job : plan.jobs()) {
      JobOnTarget on = job.targets().get(t);
      List<String> row =
          new ArrayList<>(
              List.of(
                  name(job.document().job()),
                  job.steps() != null ? String.format(Locale.ROOT, "%,d", job.steps()) : "?",
                  gflops(job.flopsPerSample()),
                  value(on.fp32Estimate(), e -> seconds(e.stepSeconds())),
                  value(on.fp32Estimate(), e -> number(e.gpuHours())),
                  value(on.fp16MixedEstimate(), e -> seconds(e.stepSeconds())),
                  value(on.fp16MixedEstimate(), e -> number(e.gpuHours()))));
      if (priced) {
        row.add(value(on.fp32Estimate(), e -> e.cost() != null ? money(e.cost()) : "-"));
        row.add(value(on.fp16MixedEstimate(), e -> e.cost() != null ? money(e.cost()) : "-"));
      }
      estimates.row(row.toArray(String[]::new));
    }
    List<String> total =
        new ArrayList<>(
            List.of(
                "total",
                "",
                "",
                "",
                totals.gpuHoursFp32() != null ? number(totals.gpuHoursFp32()) : "-",
                "",
                totals.gpuHoursFp16Mixed() != null ? number(totals.gpuHoursFp16Mixed()) : "-"));
    if (priced) {
      total.add(totals.costFp32() != null ? money(totals.costFp32()) : "-");
      total.add(totals.costFp16Mixed() != null ? money(totals.costFp16Mixed()) : "-");
    }
    estimates.row(total.toArray(String[]::new));
    blocks.add(new Table(estimates));
    GpuType g = target.gpu();
    blocks.add(
        new Paragraph(
            String.format(
                Locale.ROOT,
                "Estimates, not measurements: training FLOPs (6 per multiply-add; 6 x parameters x tokens for"
                    + " the transformer) at %.0f%% of the %s's peak dense throughput (fp32 %s TFLOPS; fp16-mixed %s"
                    + " TFLOPS), with perfect scaling over the replicas and no time for data loading,"
                    + " checkpoints or restarts.",
                plan.assumptions().utilization() * 100,
                g.name(),
                number(g.peakFp32Tflops()),
                number(g.peakFlops(true) / 1e12))));
  }

  static String name(MixedPrecisionJob job) {
    String ns = job.getMetadata().getNamespace();
    return (ns != null && !ns.isEmpty() ? ns + "/" : "") + job.getMetadata().getName();
  }

  static String replicas(PrecisionSizing p) {
    return p.split() != null && p.runs() ? String.valueOf(p.split().replicas()) : "-";
  }

  static String gpus(PrecisionSizing p) {
    return p.runs() ? String.valueOf(p.gpus()) : "-";
  }

  private static String value(Estimate e, Function<Estimate, String> f) {
    return e != null ? f.apply(e) : "-";
  }

  /** 124.4M, 1.04B. */
  static String count(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.2fB", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    if (n >= 10_000L) {
      return String.format(Locale.ROOT, "%.1fk", n / 1e3);
    }
    return String.valueOf(n);
  }

  static String number(double x) {
    if (x > 0 && x < 0.01) {
      return "<0.01";
    }
    if (x >= 100) {
      return String.format(Locale.ROOT, "%,.0f", x);
    }
    if (x >= 1) {
      return String.format(Locale.ROOT, "%.1f", x);
    }
    return String.format(Locale.ROOT, "%.2f", x);
  }

  /** GFLOP with three significant digits: small models train in well under one. */
  static String gflops(double flops) {
    double g = flops / 1e9;
    return g >= 100
        ? String.format(Locale.ROOT, "%,.0f", g)
        : String.format(Locale.ROOT, "%.3g", g);
  }

  static String seconds(double s) {
    return s >= 1
        ? String.format(Locale.ROOT, "%.2f s", s)
        : s >= 0.0001 ? String.format(Locale.ROOT, "%.1f ms", s * 1000) : "<0.1 ms";
  }

  static String money(double x) {
    return String.format(Locale.ROOT, "$%,.2f", x);
  }

  static String violations(List<Violation> violations) {
    return String.join("; ", violations.stream().map(Violation::toString).toList());
  }
}
