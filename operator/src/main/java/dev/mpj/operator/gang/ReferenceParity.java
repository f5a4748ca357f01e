package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.resources.ReferenceGang;
import dev.mpj.operator.resources.ReferenceRun;
import java.util.List;
import java.util.Optional;

/**
 * Reference parity's decisions and records (spec.parity.reference). The FP32 reference run ends
 * with rank 0 succeeding: the gang restarts as the job's own run ({@link #REFERENCE_FINISHED}, not
 * a failure). The job's own trainer compares its figures with the reference's at the step and
 * reports the verdict, which the status keeps; with action fail it exits 5 and the job fails with
 * reason {@link #EXCEEDED}, keeping its checkpoints. Pure functions.
 */
public final class ReferenceParity {
  /** The Restart reason and Event reason once the reference run finished. */
  public static final String REFERENCE_FINISHED = "ReferenceFinished";

  /** The Fail reason, PrecisionParity condition reason and Event reason of an exceeded gap. */
  public static final String EXCEEDED = "ParityExceeded";

  /** The PrecisionParity condition reason and Event reason when a gang ended without figures. */
  public static final String CANNOT_COMPARE = "CannotCompare";

  /** The PrecisionParity condition reason and Event reason within bounds. */
  public static final String PASSED = "ReferenceParityPassed";

  private ReferenceParity() {}

  /** The reference run's rank 0 finished: start the job's own run as the next attempt. */
  public static Optional<Verdict> referenceFinished(
      MixedPrecisionJob job, int attempt, Replica rank0, List<String> podsToStop) {
    if (!ReferenceRun.running(job) || ReferenceGang.isView(job) || !rank0.succeeded()) {
      return Optional.empty();
    }
    ParitySpec.Reference r = job.getSpec().parity.reference;
    return Optional.of(
        new Verdict.Restart(
            attempt + 1,
            false,
            REFERENCE_FINISHED,
            "the FP32 reference run finished its "
                + r.steps
                + " steps (spec.parity.reference); starting the job's own run",
            podsToStop));
  }

  /**
   * status.parity.reference after rank 0's report: the reference run's figures while it runs; the
   * comparison, once the job's own run reached the step. A report that would step back (a stale
   * poll of the reference after it finished) changes nothing.
   */
  public static ReferenceParityStatus record(
      ReferenceParityStatus before, ReferenceParityStatus reported, boolean referenceRunning) {
    if (reported == null) {
      return before;
    }
    if (referenceRunning) {
      if (reported.reference == null) {
        return before;
      }
      ReferenceParityStatus s = new ReferenceParityStatus();
      s.phase = ReferenceParityStatus.REFERENCE_RUNNING;
      s.step = reported.step;
      s.reference = reported.reference;
      return s;
    }
    if (reported.candidate == null || reported.withinBounds == null) {
      return before;
    }
    ReferenceParityStatus s = reported;
    s.phase = ReferenceParityStatus.COMPARED;
    if (s.reference == null && before != null) {
      s.reference = before.reference;
    }
    return s;
  }

  /** The state after the reference run finished: its figures kept, the job's run to come. */
  public static ReferenceParityStatus finished(ReferenceParityStatus before, long steps) {
    ReferenceParityStatus s = new ReferenceParityStatus();
    s.phase = ReferenceParityStatus.REFERENCE_FINISHED;
    s.step = steps;
    s.reference = before == null ? null : before.reference;
    s.message =
        s.reference == null
            ? "the FP32 reference run finished without reporting its figures; no comparison"
            : "the FP32 reference run finished; comparing at step " + steps;
    return s;
  }

  /** The Event once the comparison is recorded, if it is new in this reconcile. */
  public static Optional<JobEvent> event(
      MixedPrecisionJobStatus before, MixedPrecisionJobStatus after) {
    ReferenceParityStatus now = reference(after);
    if (now != null
        && ReferenceParityStatus.CANNOT_COMPARE.equals(now.phase)
        && (reference(before) == null
            || !ReferenceParityStatus.CANNOT_COMPARE.equals(reference(before).phase))) {
      return Optional.of(JobEvent.warning(CANNOT_COMPARE, now.message));
    }
    if (now == null || !ReferenceParityStatus.COMPARED.equals(now.phase)) {
      return Optional.empty();
    }
    ReferenceParityStatus then = reference(before);
    if (then != null && ReferenceParityStatus.COMPARED.equals(then.phase)) {
      return Optional.empty();
    }
    return Optional.of(
        Boolean.TRUE.equals(now.withinBounds)
            ? JobEvent.normal(PASSED, now.message)
            : JobEvent.warning(EXCEEDED, now.message));
  }

  private static ReferenceParityStatus reference(MixedPrecisionJobStatus s) {
    return s == null || s.parity == null ? null : s.parity.reference;
  }
}
