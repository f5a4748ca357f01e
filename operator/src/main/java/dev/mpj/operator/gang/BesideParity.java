package dev.mpj.operator.gang;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.parity.ReferenceComparison;

/**
 * Reference parity with {@code schedule: beside}: when to compare. Both gangs train at once, and
 * each reports its own figures at the compared step (spec.parity.reference.steps) to the operator,
 * which keeps the first figures of each in status.parity.reference and compares once it holds both,
 * with the same {@link ReferenceComparison} as schedule before. So it does not matter which gang
 * gets there first, nor whether either restarts (from a checkpoint before the step it reports the
 * step again; the first figures stay), nor whether the operator restarts (the figures are in the
 * status). Pure functions.
 *
 * <p>Not wired yet: the validator still refuses schedule beside, because the operator does not run
 * the second gang (pods, sizing, restarts of its own) at the same time as the first.
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
}
