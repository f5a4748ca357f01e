package dev.mpj.operator.planning;

import dev.mpj.api.DataShape;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.operator.sizing.GpuMemory;
import dev.mpj.operator.sizing.JobSizing;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.PrecisionSizing;
import java.util.ArrayList;
import java.util.List;

/**
 * What fits in a cluster now: the waiting jobs (and new ones from files) placed in order on the
 * free GPUs of the pools MPJ can use, each in its own precision; then the same with every waiting
 * job in FP16 mixed precision. Jobs that run already hold their GPUs (their pods' requests). A pure
 * function of the pools and the jobs.
 */
public final class ClusterPlanner {

  /** Where a job stands in the cluster. */
  public enum State {
    /** It has pods: its GPUs are counted as used. */
    RUNNING,
    /** Pending in the cluster: it waits for GPUs. */
    WAITING,
    /** From a file, not in the cluster yet. */
    NEW,
    /** Suspended, succeeded or failed: it needs no GPUs. */
    INACTIVE
  }

  /** A job of the cluster, or one to submit. */
  public record ClusterJob(MixedPrecisionJob job, State state) {

    /** The state of a job read from the cluster, from its status phase. */
    public static ClusterJob inCluster(MixedPrecisionJob job) {
      JobPhase phase = job.getStatus() != null ? job.getStatus().phase : null;
      State state;
      if (phase == null || phase == JobPhase.Pending) {
        state = State.WAITING;
      } else if (phase == JobPhase.Running || phase == JobPhase.Restarting) {
        state = State.RUNNING;
      } else {
        state = State.INACTIVE;
      }
      return new ClusterJob(job, state);
    }
  }

  /**
   * A waiting or new job placed (or not) in one precision.
   *
   * @param pool where it fits, or null when it waits
   * @param gpus the GPUs it would take there
   * @param reason why it waits, or its split where it fits
   */
  public record Placement(Precision precision, GpuPool pool, int gpus, String reason) {
    public boolean fits() {
      return pool != null;
    }
  }

  /** One job's outcome: as written now, and if it ran in FP16 mixed precision. */
  public record JobOutcome(ClusterJob job, Placement asWritten, Placement fp16Mixed) {}

  /** The cluster's plan. */
  public record ClusterPlan(List<GpuPool> pools, List<JobOutcome> jobs) {
    public long fitNow() {
      return jobs.stream().filter(j -> j.asWritten() != null && j.asWritten().fits()).count();
    }

    public long waitNow() {
      return jobs.stream().filter(j -> j.asWritten() != null && !j.asWritten().fits()).count();
    }

    public long fitInMixed() {
      return jobs.stream().filter(j -> j.fp16Mixed() != null && j.fp16Mixed().fits()).count();
    }
  }

  private final MemorySizer sizer;

  public ClusterPlanner(MemorySizer sizer) {
    this.sizer = sizer;
  }

  /**
   * @param jobs in the order they would be admitted (the caller sorts them: cluster jobs by
   *     creation, then new ones)
   */
  public ClusterPlan plan(List<GpuPool> pools, List<ClusterJob> jobs) {
    List<GpuPool> usable = pools.stream().filter(GpuPool::usableByMpj).toList();
    List<int[]> freeAsWritten = free(usable);
    List<int[]> freeMixed = free(usable);
    List<JobOutcome> outcomes = new ArrayList<>();
    for (ClusterJob job : jobs) {
      if (job.state() != State.WAITING && job.state() != State.NEW) {
        outcomes.add(new JobOutcome(job, null, null));
        continue;
      }
      MixedPrecisionJobSpec spec = job.job().getSpec();
      Placement own = place(spec, spec.precision, usable, freeAsWritten);
      Placement mixed = place(spec, Precision.FP16_MIXED, usable, freeMixed);
      outcomes.add(new JobOutcome(job, own, mixed));
    }
    return new ClusterPlan(pools, outcomes);
  }

  /** The first pool, smallest GPUs first, where the job runs with the GPUs still free; taken. */
  private Placement place(
      MixedPrecisionJobSpec spec, Precision precision, List<GpuPool> pools, List<int[]> free) {
    DataShape shape = DataShape.of(spec.data);
    if (!shape.missingFor(spec.model).isEmpty()) {
      return new Placement(
          precision,
          null,
          0,
          "not sized: the data's "
              + String.join(" and ", shape.missingFor(spec.model))
              + " are only in its file");
    }
    int gpusPerReplica = spec.resources != null ? spec.resources.gpusPerReplica : 1;
    String reason =
        pools.isEmpty() ? "no node with nvidia.com/gpu and GPU feature discovery labels" : null;
    for (int p = 0; p < pools.size(); p++) {
      GpuPool pool = pools.get(p);
      int[] nodeFree = free.get(p);
      int freeForReplicas = 0;
      for (int f : nodeFree) {
        freeForReplicas += gpusPerReplica > 0 ? f / gpusPerReplica * gpusPerReplica : f;
      }
      JobSizing sizing =
          sizer.size(
              spec,
              shape,
              new GpuMemory(pool.memoryBytes(), GpuMemory.NODE_LABEL),
              freeForReplicas);
      PrecisionSizing s = precision.isMixed() ? sizing.fp16Mixed() : sizing.fp32();
      if (s.runs()) {
        take(nodeFree, s.split().replicas(), gpusPerReplica);
        return new Placement(precision, pool, s.gpus(), s.message());
      }
      if (reason == null || s.memoryFits()) {
        reason = pool.product() + ": " + s.message();
      }
    }
    return new Placement(precision, null, 0, reason);
  }

  private static void take(int[] nodeFree, int replicas, int gpusPerReplica) {
    int left = replicas;
    for (int n = 0; n < nodeFree.length && left > 0; n++) {
      while (left > 0 && nodeFree[n] >= gpusPerReplica) {
        nodeFree[n] -= gpusPerReplica;
        left--;
      }
    }
  }

  private static List<int[]> free(List<GpuPool> pools) {
    return pools.stream()
        .map(p -> p.freePerNode().stream().mapToInt(Integer::intValue).toArray())
        .toList();
  }
}
