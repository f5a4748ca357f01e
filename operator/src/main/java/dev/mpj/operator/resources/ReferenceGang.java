package dev.mpj.operator.resources;

import dev.mpj.api.Crd;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.ReferenceGangStatus;
import dev.mpj.api.ReferenceParityStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reference parity with schedule beside: the FP32 reference trains as a second gang of the job, at
 * the same time as the job's own gang. The operator drives it through the same code as the job's
 * gang (GangPlanner, JobStatuses, ReplicaPods, the sizer) by handing them the reference gang's
 * <em>view</em> of the job: the job itself (its uid, owner, token, checkpoint claim and Service),
 * marked as the reference gang, with the reference gang's own status (status.parity.reference.gang)
 * in place of the job's. Marked, the view's pods get names of their own ({@code
 * <job>-worker-<rank>-reference}) and a {@value #LABEL} label, its trainer config its own
 * ConfigMap, and it trains as {@link ReferenceRun} says (FP32, reference.steps steps, checkpoints
 * under reference-fp32/). Pure functions.
 */
public final class ReferenceGang {
  /** Label of the reference gang's pods, and the view's marker annotation (in memory only). */
  public static final String LABEL = Crd.GROUP + "/gang";

  /** The value of {@link #LABEL}. */
  public static final String REFERENCE = "reference";

  private ReferenceGang() {}

  /**
   * Whether the job runs its reference beside its own gang: spec.parity.reference.schedule beside
   * on a mixed-precision job that did not fall back to FP32 (after a fallback nothing is compared).
   */
  public static boolean beside(MixedPrecisionJob job) {
    ParitySpec parity = job.getSpec() == null ? null : job.getSpec().parity;
    return parity != null
        && parity.reference != null
        && parity.reference.steps != null
        && parity.reference.schedule == ParitySpec.Schedule.BESIDE
        && job.getSpec().precision != Precision.FP32
        && !AttemptSpec.fellBackToFp32(job);
  }

  /** Whether {@code job} is a reference gang's view (not the job as stored). */
  public static boolean isView(MixedPrecisionJob job) {
    Map<String, String> annotations = job.getMetadata().getAnnotations();
    return annotations != null && REFERENCE.equals(annotations.get(LABEL));
  }

  /** Whether the pod belongs to the reference gang. */
  public static boolean isReferencePod(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null && REFERENCE.equals(labels.get(LABEL));
  }

  /** The reference gang's pods among the job's. */
  public static List<Pod> referencePods(List<Pod> pods) {
    return pods.stream().filter(ReferenceGang::isReferencePod).toList();
  }

  /** The job's own gang's pods among the job's. */
  public static List<Pod> jobPods(List<Pod> pods) {
    return pods.stream().filter(p -> !isReferencePod(p)).toList();
  }

  /** GPUs held by those of the pods that have not finished, of replicas of the job's size. */
  public static int gpusHeld(MixedPrecisionJob job, List<Pod> pods) {
    long unfinished =
        pods.stream()
            .filter(
                p ->
                    p.getStatus() == null
                        || !("Succeeded".equals(p.getStatus().getPhase())
                            || "Failed".equals(p.getStatus().getPhase())))
            .count();
    int perReplica = job.getSpec().resources == null ? 1 : job.getSpec().resources.gpusPerReplica;
    return (int) unfinished * perReplica;
  }

  /**
   * The reference gang's view of the job: the job, marked, with the reference gang's status as its
   * status.
   */
  public static MixedPrecisionJob view(MixedPrecisionJob job) {
    MixedPrecisionJob view = JobFiles.yamlMapper().convertValue(job, MixedPrecisionJob.class);
    Map<String, String> annotations =
        view.getMetadata().getAnnotations() == null
            ? new HashMap<>()
            : new HashMap<>(view.getMetadata().getAnnotations());
    annotations.put(LABEL, REFERENCE);
    view.getMetadata().setAnnotations(annotations);
    view.setStatus(status(gang(job)));
    return view;
  }

  /** The reference gang's recorded status, or null before it started. */
  public static ReferenceGangStatus gang(MixedPrecisionJob job) {
    MixedPrecisionJobStatus s = job.getStatus();
    ReferenceParityStatus r = s == null || s.parity == null ? null : s.parity.reference;
    return r == null ? null : r.gang;
  }

  /** The gang's status as the job status GangPlanner and JobStatuses read. */
  static MixedPrecisionJobStatus status(ReferenceGangStatus gang) {
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    if (gang == null) {
      return s;
    }
    s.phase = gang.phase;
    s.attempt = gang.attempt;
    s.restarts = gang.restarts;
    s.disruptions = gang.disruptions;
    s.replicas = gang.replicas;
    s.readyReplicas = gang.readyReplicas;
    s.startTime = gang.startTime;
    s.completionTime = gang.completionTime;
    s.message = gang.message;
    return s;
  }

  /** What of the view's next status the job keeps for its reference gang. */
  public static ReferenceGangStatus gang(MixedPrecisionJobStatus s) {
    ReferenceGangStatus g = new ReferenceGangStatus();
    g.phase = s.phase;
    g.attempt = s.attempt;
    g.restarts = s.restarts;
    g.disruptions = s.disruptions;
    g.replicas = s.replicas;
    g.readyReplicas = s.readyReplicas;
    g.startTime = s.startTime;
    g.completionTime = s.completionTime;
    g.message = s.message;
    return g;
  }
}
