package dev.mpj.operator;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ReferenceGangStatus;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.events.EventRecorder;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.gang.ClusterObserver;
import dev.mpj.operator.gang.GangPlanner;
import dev.mpj.operator.gang.JobEvents;
import dev.mpj.operator.gang.JobStatuses;
import dev.mpj.operator.gang.Observation;
import dev.mpj.operator.gang.Replica;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.progress.ProgressReport;
import dev.mpj.operator.resources.AttemptSpec;
import dev.mpj.operator.resources.JobResources;
import dev.mpj.operator.resources.ReferenceGang;
import dev.mpj.operator.resources.ReplicaPods;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.Sizer;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Runs the FP32 reference gang of reference parity with schedule beside, in the job's reconcile and
 * before the job's own gang: observe its pods → decide ({@link GangPlanner} on the gang's view of
 * the job, {@link ReferenceGang#view}) → act (stop, size, create) → its status. The same decisions
 * as the job's gang, so the same checkpoint and restart rules, with attempts and restarts of its
 * own. Thin: it decides nothing itself.
 *
 * <p>Both gangs must fit at once: each gang's new attempt is sized with the other gang's unfinished
 * pods counted as taken, and the first attempts start together: the reference gang's first attempt
 * starts only when the job's own gang fits beside it; until then neither starts, and the job waits
 * with the reason ({@link Step#holdJob}).
 */
final class ReferenceGangRun {
  /** Reads rank 0's progress of one gang; {@code key} keeps the gangs' polls apart. */
  interface ProgressReader {
    ProgressReport read(MixedPrecisionJob job, List<Pod> pods, Instant now, String key);
  }

  /**
   * What this reconcile did with the reference gang.
   *
   * @param gang its status to record
   * @param figures its figures at the compared step, if it reported them now
   * @param holdJob the plan that keeps the job's own first attempt from starting, else null
   * @param gpusHeld GPUs its unfinished pods hold, those created now included
   * @param wake when to look at it again without an event, or null
   */
  record Step(
      ReferenceGangStatus gang,
      ParityPoint figures,
      SizingPlan holdJob,
      int gpusHeld,
      Duration wake) {}

  private final Sizer sizer;
  private final ClusterObserver cluster;
  private final JobResources resources;
  private final EventRecorder events;
  private final OperatorSettings settings;

  ReferenceGangRun(
      Sizer sizer,
      ClusterObserver cluster,
      JobResources resources,
      EventRecorder events,
      OperatorSettings settings) {
    this.sizer = sizer;
    this.cluster = cluster;
    this.resources = resources;
    this.events = events;
    this.settings = settings;
  }

  /**
   * Stops what is left of the reference gang once the job no longer runs one (it finished, or fell
   * back to FP32, or its spec no longer asks for it).
   */
  void stop(MixedPrecisionJob job, List<Pod> referencePods) {
    resources.stopPods(
        job.getMetadata().getNamespace(),
        referencePods.stream()
            .map(Replica::of)
            .filter(Replica::active)
            .map(Replica::name)
            .sorted()
            .toList());
  }

  /**
   * One reconcile of the reference gang.
   *
   * @param jobPods the job's own gang's pods (their GPUs are taken)
   * @param createPods creates pods and hands them to the pods' informer cache
   */
  Step reconcile(
      MixedPrecisionJob job,
      List<Pod> referencePods,
      List<Pod> jobPods,
      List<Violation> violations,
      ProgressReader progress,
      Consumer<List<Pod>> createPods,
      Instant now) {
    MixedPrecisionJob view = ReferenceGang.view(job);
    List<Replica> replicas = referencePods.stream().map(Replica::of).toList();
    Verdict verdict = GangPlanner.decide(new Observation(view, replicas, now, violations, null));
    resources.stopPods(job.getMetadata().getNamespace(), verdict.podsToStop());
    int gpusHeld = ReferenceGang.gpusHeld(job, referencePods);
    int gpusPerReplica =
        job.getSpec().resources == null ? 1 : job.getSpec().resources.gpusPerReplica;
    SizingPlan plan = null;
    SizingPlan holdJob = null;
    if (verdict instanceof Verdict.Start start && start.isNew()) {
      ClusterCapacity capacity =
          cluster.capacityFor(view).less(ReferenceGang.gpusHeld(job, jobPods));
      plan = sizer.plan(AttemptSpec.of(view), capacity);
      boolean jobNotStarted =
          jobPods.isEmpty() && (job.getStatus() == null || job.getStatus().attempt == 0);
      if (plan.fits() && jobNotStarted) {
        SizingPlan beside =
            sizer.plan(AttemptSpec.of(job), capacity.less(plan.replicas() * gpusPerReplica));
        if (!beside.fits()) {
          plan = besideMessage(beside, "the job's own gang does not fit beside it: ");
          holdJob = plan;
        }
      } else if (!plan.fits() && jobNotStarted) {
        holdJob = besideMessage(plan, "the FP32 reference gang: ");
      }
      if (plan.fits()) {
        resources.ensureChildren(view, plan, settings.coordinatorPort());
        int world = plan.replicas();
        createPods.accept(
            IntStream.range(0, world)
                .mapToObj(rank -> ReplicaPods.desired(view, start.attempt(), world, rank, settings))
                .toList());
        gpusHeld += world * gpusPerReplica;
      }
    } else if (verdict instanceof Verdict.Start start) {
      createPods.accept(
          start.missingRanks().stream()
              .map(
                  rank ->
                      ReplicaPods.desired(view, start.attempt(), start.worldSize(), rank, settings))
              .toList());
      gpusHeld += start.missingRanks().size() * gpusPerReplica;
    }
    boolean reporting =
        verdict instanceof Verdict.Observe
            || verdict instanceof Verdict.Succeed
            || verdict instanceof Verdict.Fail
            || verdict instanceof Verdict.Restart;
    ProgressReport report =
        reporting
            ? progress.read(view, referencePods, now, job.getMetadata().getUid() + "/reference")
            : null;
    MixedPrecisionJobStatus after = JobStatuses.next(view, verdict, plan, report, now);
    for (JobEvent event : events(verdict, plan)) {
      events.record(job, event, "reference " + JobEvents.occurrence(job, after));
    }
    ParityPoint figures =
        report == null || report.referenceParity() == null
            ? null
            : report.referenceParity().reference;
    Duration wake =
        MixedPrecisionJobReconciler.nextWake(
            view, verdict, after, plan, now, settings.progressInterval());
    return new Step(ReferenceGang.gang(after), figures, holdJob, gpusHeld, wake);
  }

  /** The plan with a message that says which gang it is about and why the job waits. */
  private static SizingPlan besideMessage(SizingPlan plan, String what) {
    return new SizingPlan(
        false,
        plan.replicas(),
        plan.microBatch(),
        plan.gradientAccumulation(),
        plan.status(),
        "spec.parity.reference.schedule beside starts both gangs at once; "
            + what
            + plan.message());
  }

  /** The reference gang's restarts and end, as Events of the job. */
  private static List<JobEvent> events(Verdict verdict, SizingPlan plan) {
    if (verdict instanceof Verdict.Start start && plan != null && plan.fits()) {
      return List.of(
          JobEvent.normal(
              "ReferenceStarted",
              "FP32 reference gang: attempt "
                  + start.attempt()
                  + " with "
                  + plan.replicas()
                  + " replicas x micro-batch "
                  + plan.microBatch()
                  + " x accumulation "
                  + plan.gradientAccumulation()
                  + ", sized for FP32, beside the job's gang"));
    }
    if (verdict instanceof Verdict.Restart r) {
      return List.of(
          JobEvent.warning(
              "ReferenceRestarting",
              "FP32 reference gang: " + r.message() + "; attempt " + r.nextAttempt()));
    }
    if (verdict instanceof Verdict.Fail f) {
      return List.of(JobEvent.warning("ReferenceFailed", "FP32 reference gang: " + f.message()));
    }
    if (verdict instanceof Verdict.Succeed) {
      return List.of(
          JobEvent.normal("ReferenceSucceeded", "the FP32 reference gang finished its steps"));
    }
    return List.of();
  }
}
