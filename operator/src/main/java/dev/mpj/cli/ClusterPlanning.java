package dev.mpj.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.planning.ClusterInventory;
import dev.mpj.operator.planning.ClusterPlanner;
import dev.mpj.operator.planning.ClusterPlanner.ClusterJob;
import dev.mpj.operator.planning.ClusterPlanner.ClusterPlan;
import dev.mpj.operator.planning.ClusterPlanner.JobOutcome;
import dev.mpj.operator.planning.ClusterPlanner.Placement;
import dev.mpj.operator.planning.FleetManifests;
import dev.mpj.operator.planning.FleetManifests.JobDocument;
import dev.mpj.operator.planning.FleetPlanner;
import dev.mpj.operator.planning.GpuCatalog;
import dev.mpj.operator.planning.GpuPool;
import dev.mpj.operator.planning.PlanTarget;
import dev.mpj.operator.sizing.Bytes;
import dev.mpj.operator.sizing.MemorySizer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code mpj plan --cluster}: the fleet plan against the GPUs and jobs of a live cluster. */
final class ClusterPlanning {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ClusterPlanning() {}

  static int run(
      PlanCommand c,
      GpuCatalog catalog,
      FleetPlanner.Assumptions assumptions,
      MemorySizer sizer,
      FleetManifests files,
      PrintWriter out,
      PrintWriter err)
      throws JsonProcessingException {
    List<Node> nodes;
    List<Pod> pods;
    List<MixedPrecisionJob> inCluster;
    try (KubernetesClient client = KubeClients.connect(c.kubeconfig, c.context)) {
      nodes = client.nodes().list().getItems();
      pods = client.pods().inAnyNamespace().list().getItems();
      inCluster =
          c.namespace != null
              ? client.resources(MixedPrecisionJob.class).inNamespace(c.namespace).list().getItems()
              : client.resources(MixedPrecisionJob.class).inAnyNamespace().list().getItems();
    } catch (KubernetesClientException e) {
      err.println("plan: cannot read the cluster: " + e.getMessage());
      return MpjCommand.EXIT_BAD_INPUT;
    }
    List<GpuPool> pools = ClusterInventory.observe(nodes, pods, catalog);
    List<ClusterJob> jobs = new ArrayList<>();
    inCluster.stream()
        .sorted(
            Comparator.comparing(
                    (MixedPrecisionJob j) ->
                        j.getMetadata().getCreationTimestamp() != null
                            ? j.getMetadata().getCreationTimestamp()
                            : "")
                .thenComparing(FleetReport::name))
        .forEach(j -> jobs.add(ClusterJob.inCluster(j)));
    files.jobs().forEach(d -> jobs.add(new ClusterJob(d.job(), ClusterPlanner.State.NEW)));
    ClusterPlan clusterPlan = new ClusterPlanner(sizer).plan(pools, jobs);

    List<JobDocument> documents = new ArrayList<>();
    inCluster.forEach(j -> documents.add(new JobDocument("cluster", j)));
    documents.addAll(files.jobs());
    List<PlanTarget> targets =
        pools.stream()
            .filter(GpuPool::usableByMpj)
            .map(p -> new PlanTarget(p.product(), p.memoryBytes(), p.gpu()))
            .toList();
    FleetPlanner.FleetPlan fleet = new FleetPlanner(sizer).plan(documents, targets, assumptions);
    switch (c.format) {
      case json -> {
        Map<String, Object> root = FleetOutput.json(fleet, files);
        root.put("cluster", json(clusterPlan));
        out.println(JSON.writeValueAsString(root));
      }
      case markdown -> FleetOutput.markdown(out, blocks(clusterPlan, fleet, files), files);
      case html -> FleetOutput.html(out, blocks(clusterPlan, fleet, files), fleet, files);
      case table -> FleetOutput.text(out, blocks(clusterPlan, fleet, files));
    }
    FleetOutput.problems(files, err, "plan: ");
    return files.invalid().isEmpty() ? 0 : FleetPlanning.EXIT_SOME_INVALID;
  }

  static List<FleetReport.Block> blocks(
      ClusterPlan plan, FleetPlanner.FleetPlan fleet, FleetManifests files) {
    List<FleetReport.Block> blocks = new ArrayList<>();
    blocks.add(
        new FleetReport.Heading(
            String.format(
                "Cluster: %d GPU pools; of the waiting and new jobs %d fit now, %d wait; %d would fit if every"
                    + " one ran in fp16-mixed",
                plan.pools().size(), plan.fitNow(), plan.waitNow(), plan.fitInMixed())));
    TextTable pools =
        new TextTable("GPU POOL", "CATALOG", "GPU MEMORY", "NODES", "GPUS", "FREE", "RESOURCE");
    for (GpuPool p : plan.pools()) {
      pools.row(
          p.product(),
          p.gpu() != null ? p.gpu().name() : "-",
          Bytes.format(p.memoryBytes()),
          String.valueOf(p.nodes().size()),
          String.valueOf(p.gpus()),
          String.valueOf(p.freeGpus()),
          p.resource() + (p.usableByMpj() ? "" : " (not used by MPJ pods)"));
    }
    blocks.add(new FleetReport.Table(pools));
    TextTable jobs = new TextTable("JOB", "STATE", "PRECISION", "NOW", "IN FP16-MIXED");
    for (JobOutcome o : plan.jobs()) {
      jobs.row(
          FleetReport.name(o.job().job()),
          o.job().state().name().toLowerCase(),
          o.job().job().getSpec().precision.value(),
          cell(o.asWritten(), o.job()),
          cell(o.fp16Mixed(), o.job()));
    }
    blocks.add(new FleetReport.Table(jobs));
    for (JobOutcome o : plan.jobs()) {
      if (o.asWritten() != null && !o.asWritten().fits()) {
        blocks.add(
            new FleetReport.Paragraph(
                FleetReport.name(o.job().job()) + " waits: " + o.asWritten().reason()));
      }
    }
    blocks.add(
        new FleetReport.Paragraph(
            "Running jobs hold the GPUs their pods request; waiting jobs (phase Pending) and new ones"
                + " (from -f) are placed in order of creation on the smallest GPUs where they run; node"
                + " selectors, taints and queues are not considered."));
    blocks.addAll(FleetReport.blocks(fleet, files));
    return blocks;
  }

  private static String cell(Placement p, ClusterJob job) {
    if (p == null) {
      return job.state() == ClusterPlanner.State.RUNNING ? "running" : "-";
    }
    return p.fits() ? "fits on " + p.pool().product() + " (" + p.gpus() + " GPUs)" : "waits";
  }

  private static Map<String, Object> json(ClusterPlan plan) {
    Map<String, Object> root = new LinkedHashMap<>();
    List<Object> pools = new ArrayList<>();
    for (GpuPool p : plan.pools()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("product", p.product());
      m.put("catalogGpu", p.gpu() != null ? p.gpu().name() : null);
      m.put("memoryBytes", p.memoryBytes());
      m.put("resource", p.resource());
      m.put("migProfile", p.migProfile());
      m.put("nodes", p.nodes());
      m.put("gpus", p.gpus());
      m.put("freeGpus", p.freeGpus());
      m.put("usableByMpj", p.usableByMpj());
      pools.add(m);
    }
    root.put("pools", pools);
    List<Object> jobs = new ArrayList<>();
    for (JobOutcome o : plan.jobs()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("namespace", o.job().job().getMetadata().getNamespace());
      m.put("name", o.job().job().getMetadata().getName());
      m.put("state", o.job().state().name().toLowerCase());
      m.put("precision", o.job().job().getSpec().precision.value());
      m.put("asWritten", json(o.asWritten()));
      m.put("fp16Mixed", json(o.fp16Mixed()));
      jobs.add(m);
    }
    root.put("jobs", jobs);
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("fitNow", plan.fitNow());
    summary.put("waitNow", plan.waitNow());
    summary.put("fitIfAllFp16Mixed", plan.fitInMixed());
    root.put("summary", summary);
    return root;
  }

  private static Map<String, Object> json(Placement p) {
    if (p == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("fits", p.fits());
    m.put("pool", p.fits() ? p.pool().product() : null);
    m.put("gpus", p.fits() ? p.gpus() : null);
    m.put("reason", p.reason());
    return m;
  }
}
