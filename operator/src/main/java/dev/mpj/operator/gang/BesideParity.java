package dev.mpj.operator.gang;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ReferenceGangStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.parity.ReferenceComparison;
import dev.mpj.operator.progress.ProgressReport;
import java.time.Instant;
import java.util.List;

/**
 * Reference parity with {@code schedule: beside}: when to compare. Both gangs train at once, and
 * each reports its own figures at the compared step (spec.parity.reference.steps) to the operator,
 * which keeps the first figures of each in status.parity.reference and compares once it holds both,
 * with the same {@link ReferenceComparison} as schedule before. So it does not matter which gang
 * gets there first, nor whether either restarts (from a checkpoint before the step it reports the
 * step again; the first figures stay), nor whether the operator restarts (the figures are in the
 * status). Pure functions.
 *
 * <p>{@link #next} turns a reconcile's observations into the decision and the status to record;
 * {@link #record} writes that into the job's next status with the PrecisionParity condition.
 */
public final class BesideParity {
  private BesideParity() {}

  /** What one gang has shown of the compared step. */
  public record Gang(ParityPoint figures, boolean ended) {
    /** A gang still training, with its figures at the step if it reported them. */
    public static Gang training(ParityPoint figures) {
      return new Gang(figures, false);
    }

    /** A gang that ended (succeeded, or failed for good), with its figures if it reported them. */
    public static Gang ended(ParityPoint figures) {
      return new Gang(figures, true);
    }
  }

  /** What the operator does about reference parity in this reconcile. */
  public sealed interface Decision {}

  /**
   * Not both figures yet. {@code holdJobsEnd}: the job's run finished first; the job stays Running
   * (not Succeeded) until the reference reaches the step, so the verdict and a fail can still come.
   */
  public record Wait(boolean holdJobsEnd, String message) implements Decision {}

  /** Both figures: the comparison to record; {@code failJob} when action fail and exceeded. */
  public record Compare(ReferenceParityStatus status, boolean failJob) implements Decision {}

  /** A gang ended without its figures at the step: there is nothing to compare with. */
  public record CannotCompare(String message) implements Decision {}

  /** Already compared: later reports (a restarted gang passing the step again) change nothing. */
  public record Done() implements Decision {}

  /**
   * The figures to keep for one gang: the first ones reported at the compared step. A report of
   * another step (a stale poll, or the step before a restart) is not the gang's figures.
   */
  public static ParityPoint keep(ParityPoint recorded, ParityPoint reported, long step) {
    if (recorded != null) {
      return recorded;
    }
    return reported != null && reported.step != null && reported.step == step ? reported : null;
  }

  /**
   * The decision from what status.parity.reference held before, and both gangs' figures as kept by
   * {@link #keep}.
   */
  public static Decision decide(
      ParitySpec.Reference spec, ReferenceParityStatus before, Gang reference, Gang job) {
    if (before != null && ReferenceParityStatus.COMPARED.equals(before.phase)) {
      return new Done();
    }
    long step = spec.steps;
    if (reference.figures() != null && job.figures() != null) {
      ReferenceParityStatus s =
          ReferenceComparison.status(reference.figures(), job.figures(), spec);
      return new Compare(
          s, !Boolean.TRUE.equals(s.withinBounds) && spec.action == ParitySpec.Action.FAIL);
    }
    if (reference.figures() == null && reference.ended()) {
      return new CannotCompare(
          "the FP32 reference ended without reaching step " + step + "; no comparison");
    }
    if (job.figures() == null && job.ended()) {
      return new CannotCompare(
          "the job's run ended without reaching step " + step + "; no comparison");
    }
    if (job.figures() != null) {
      return new Wait(
          job.ended(),
          "the job's run reached step "
              + step
              + "; waiting for the FP32 reference to reach it"
              + (job.ended() ? " (the job ends after the comparison)" : ""));
    }
    return new Wait(false, "comparing at step " + step + " once both runs reach it");
  }

  /** A reconcile's decision, and status.parity.reference as it is to be recorded. */
  public record Outcome(Decision decision, ReferenceParityStatus status) {}

  /**
   * The decision and the status from what the job's status held, the reference gang's status (null
   * before it started), and the figures each gang reported in this reconcile (null when none).
   *
   * @param jobEnded the job's own gang ended in this reconcile (rank 0 succeeded, or it failed)
   */
  public static Outcome next(
      MixedPrecisionJob job,
      ReferenceGangStatus gang,
      ParityPoint referenceReported,
      ParityPoint jobReported,
      boolean jobEnded) {
    ParitySpec.Reference spec = job.getSpec().parity.reference;
    MixedPrecisionJobStatus status = job.getStatus();
    ReferenceParityStatus before =
        status == null || status.parity == null ? null : status.parity.reference;
    long step = spec.steps;
    ParityPoint reference = keep(before == null ? null : before.reference, referenceReported, step);
    ParityPoint candidate = keep(before == null ? null : before.candidate, jobReported, step);
    boolean referenceEnded = gang != null && gang.phase != null && gang.phase.isFinished();
    Decision d =
        decide(spec, before, new Gang(reference, referenceEnded), new Gang(candidate, jobEnded));
    ReferenceParityStatus s;
    if (d instanceof Compare c) {
      s = c.status();
    } else if (d instanceof Done) {
      s = before;
    } else {
      s = new ReferenceParityStatus();
      s.step = step;
      s.reference = reference;
      s.candidate = candidate;
      if (d instanceof Wait w) {
        s.phase = ReferenceParityStatus.WAITING;
        s.message = w.message();
      } else if (d instanceof CannotCompare cc) {
        s.phase = ReferenceParityStatus.CANNOT_COMPARE;
        s.message = cc.message();
      }
    }
    s.gang = gang;
    return new Outcome(d, s);
  }

  /**
   * {@link #next} from the job's progress report of this reconcile and the job's verdict (its gang
   * ended when the verdict is Succeed or Fail).
   */
  public static Outcome next(
      MixedPrecisionJob job,
      ReferenceGangStatus gang,
      ParityPoint referenceReported,
      ProgressReport report,
      Verdict verdict) {
    ParityPoint jobReported =
        report == null || report.referenceParity() == null
            ? null
            : report.referenceParity().candidate;
    Outcome outcome =
        next(
            job,
            gang,
            referenceReported,
            jobReported,
            verdict instanceof Verdict.Succeed || verdict instanceof Verdict.Fail);
    if (outcome.decision() instanceof Wait
        && verdict instanceof Verdict.Restart r
        && Divergence.FALLBACK_REASON.equals(r.reason())) {
      // The job's run is FP32 from now on: no longer the mixed run, and the reference gang stops.
      ReferenceParityStatus s = outcome.status();
      s.phase = ReferenceParityStatus.CANNOT_COMPARE;
      s.message =
          "the job fell back to FP32 (spec.parity.onDivergence) before both gangs reached step "
              + s.step
              + "; no comparison, the FP32 reference gang is stopped";
      return new Outcome(new CannotCompare(s.message), s);
    }
    return outcome;
  }

  /**
   * The job's verdict once the outcome is known. action fail and exceeded: the job fails with
   * reason {@link ReferenceParity#EXCEEDED}, its running pods stopped (SIGTERM: they checkpoint)
   * and its checkpoints kept. The job's rank 0 finished before the reference reached the step
   * ({@link Wait#holdJobsEnd}): the job stays Running until the verdict is in. Else unchanged.
   *
   * @param replicas the job's own gang's replicas
   */
  public static Verdict verdict(Verdict verdict, Outcome outcome, List<Replica> replicas) {
    if (outcome.decision() instanceof Compare c
        && c.failJob()
        && !(verdict instanceof Verdict.Fail)) {
      return new Verdict.Fail(
          ReferenceParity.EXCEEDED,
          c.status().message
              + "; spec.parity.reference.action is fail: the job fails, its checkpoints kept",
          replicas.stream().filter(Replica::active).map(Replica::name).sorted().toList());
    }
    if (outcome.decision() instanceof Wait w
        && w.holdJobsEnd()
        && verdict instanceof Verdict.Succeed) {
      int attempt = replicas.stream().mapToInt(Replica::attempt).max().orElse(0);
      int world =
          replicas.stream()
              .filter(r -> r.attempt() == attempt)
              .mapToInt(Replica::worldSize)
              .max()
              .orElse(0);
      return new Verdict.Observe(JobPhase.Running, attempt, world, 0);
    }
    return verdict;
  }

  /**
   * Writes the outcome into the job's next status: status.parity.reference, and the PrecisionParity
   * condition once compared (True ReferenceParityPassed, False ParityExceeded) or when there is
   * nothing to compare (Unknown CannotCompare).
   */
  public static void record(
      MixedPrecisionJobStatus after,
      Outcome outcome,
      Verdict verdict,
      Instant now,
      Long generation) {
    after.parity = after.parity == null ? new ParityStatus() : after.parity;
    after.parity.reference = outcome.status();
    if (outcome.decision() instanceof Wait w
        && w.holdJobsEnd()
        && verdict instanceof Verdict.Observe) {
      after.message = "training finished; " + w.message();
    }
    JobStatuses.Conditions c =
        new JobStatuses.Conditions(after.conditions, now.toString(), generation);
    ReferenceParityStatus s = outcome.status();
    String message = s.message == null ? "" : s.message;
    if (outcome.decision() instanceof Compare) {
      boolean ok = Boolean.TRUE.equals(s.withinBounds);
      c.set(
          JobStatuses.PRECISION_PARITY,
          ok,
          ok ? ReferenceParity.PASSED : ReferenceParity.EXCEEDED,
          message);
    } else if (outcome.decision() instanceof CannotCompare) {
      c.unknown(JobStatuses.PRECISION_PARITY, ReferenceParity.CANNOT_COMPARE, message);
    }
  }
}
