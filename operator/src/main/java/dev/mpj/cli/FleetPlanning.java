package dev.mpj.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.operator.planning.FleetManifests;
import dev.mpj.operator.planning.FleetPlanner;
import dev.mpj.operator.planning.GpuCatalog;
import dev.mpj.operator.planning.GpuType;
import dev.mpj.operator.planning.PlanTarget;
import dev.mpj.operator.sizing.Bytes;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code mpj plan} for a fleet: reads the manifests, plans them, prints the plan. */
final class FleetPlanning {

  /** Exit code when some documents were invalid and the others were planned. */
  static final int EXIT_SOME_INVALID = 3;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private FleetPlanning() {}

  static int run(PlanCommand c) throws JsonProcessingException {
    PrintWriter out = c.spec.commandLine().getOut();
    PrintWriter err = c.spec.commandLine().getErr();
    try {
      return run(c, out, err);
    } catch (IllegalArgumentException e) {
      err.println("plan: " + e.getMessage());
      return MpjCommand.EXIT_BAD_INPUT;
    } finally {
      out.flush();
      err.flush();
    }
  }

  private static int run(PlanCommand c, PrintWriter out, PrintWriter err)
      throws JsonProcessingException {
    if (c.freeGpus != null || c.features != null || c.classes != null) {
      throw new IllegalArgumentException(
          "--free-gpus, --features and --classes plan one job (mpj plan -f JOB.yaml);"
              + " a fleet plan counts free GPUs with --cluster");
    }
    if (c.files.isEmpty() && !c.cluster) {
      throw new IllegalArgumentException("pass -f FILE|FOLDER|- (or --cluster)");
    }
    GpuCatalog catalog = GpuCatalog.builtIn();
    if (c.catalog != null) {
      catalog = catalog.with(GpuCatalogFile.read(c.catalog));
    }
    FleetPlanner.Assumptions assumptions = assumptions(c, catalog);
    MemorySizer sizer = new MemorySizer(SizingSettings.defaults());
    FleetManifests manifests = FleetFiles.read(c.files, c.stdin);
    if (c.cluster) {
      return ClusterPlanning.run(c, catalog, assumptions, sizer, manifests, out, err);
    }
    List<PlanTarget> targets = targets(c, catalog);
    FleetPlanner.FleetPlan plan =
        new FleetPlanner(sizer).plan(manifests.jobs(), targets, assumptions);
    print(c.format, plan, manifests, out);
    FleetOutput.problems(manifests, err, "plan: ");
    return exitCode(manifests, err, c.files);
  }

  static void print(
      PlanCommand.Format format,
      FleetPlanner.FleetPlan plan,
      FleetManifests manifests,
      PrintWriter out)
      throws JsonProcessingException {
    switch (format) {
      case json -> out.println(JSON.writeValueAsString(FleetOutput.json(plan, manifests)));
      case markdown -> FleetOutput.markdown(out, FleetReport.blocks(plan, manifests), manifests);
      case html -> FleetOutput.html(out, FleetReport.blocks(plan, manifests), plan, manifests);
      case table -> FleetOutput.text(out, FleetReport.blocks(plan, manifests));
    }
  }

  static int exitCode(FleetManifests manifests, PrintWriter err, List<String> files) {
    if (!manifests.invalid().isEmpty()) {
      return EXIT_SOME_INVALID;
    }
    if (manifests.jobs().isEmpty()) {
      err.println("plan: no MixedPrecisionJob in " + String.join(" ", files));
      return MpjCommand.EXIT_BAD_INPUT;
    }
    return 0;
  }

  static List<PlanTarget> targets(PlanCommand c, GpuCatalog catalog) {
    if (!c.gpus.isEmpty()) {
      return catalog.select(c.gpus).stream().map(PlanTarget::of).toList();
    }
    if (c.gpuMemoryBytes != null) {
      return List.of(PlanTarget.ofMemory(Bytes.format(c.gpuMemoryBytes), c.gpuMemoryBytes));
    }
    return List.of(PlanTarget.asWritten());
  }

  private static FleetPlanner.Assumptions assumptions(PlanCommand c, GpuCatalog catalog) {
    double utilization = c.utilization != null ? c.utilization : FleetPlanner.DEFAULT_UTILIZATION;
    if (!(utilization > 0 && utilization <= 1)) {
      throw new IllegalArgumentException(
          "--utilization: must be a fraction in (0, 1], e.g. 0.4 (got " + utilization + ")");
    }
    Map<String, Double> prices = new LinkedHashMap<>();
    for (Map.Entry<String, Double> e : c.prices.entrySet()) {
      Optional<GpuType> gpu = catalog.find(e.getKey());
      if (gpu.isEmpty()) {
        throw new IllegalArgumentException(
            "--price: unknown GPU '"
                + e.getKey()
                + "'; the catalog has "
                + String.join(", ", catalog.entries().stream().map(GpuType::name).toList()));
      }
      if (e.getValue() == null || !(e.getValue() >= 0)) {
        throw new IllegalArgumentException(
            "--price " + e.getKey() + ": must be a price per GPU-hour of at least 0");
      }
      prices.put(gpu.get().name().toUpperCase(Locale.ROOT), e.getValue());
    }
    return new FleetPlanner.Assumptions(utilization, prices);
  }
}
