package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ReferenceGangStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.gang.BesideParity.Gang;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** schedule beside's decision: compare once both gangs reached the step, whichever came first. */
class BesideParityTest {
  private final ParitySpec.Reference spec = spec(ParitySpec.Action.FAIL);

  private static ParitySpec.Reference spec(ParitySpec.Action action) {
    ParitySpec.Reference r = new ParitySpec.Reference();
    r.steps = 40;
    r.schedule = ParitySpec.Schedule.BESIDE;
    r.action = action;
    return r;
  }

  private static ParityPoint point(String run, long step, double loss, double accuracy) {
    ParityPoint p = new ParityPoint();
    p.run = run;
    p.precision = ParityPoint.REFERENCE.equals(run) ? "fp32" : "fp16-mixed";
    p.step = step;
    p.validationLoss = loss;
    p.validationAccuracy = accuracy;
    p.trainingLoss = loss + 0.3;
    return p;
  }

  private final ParityPoint reference = point(ParityPoint.REFERENCE, 40, 1.0, 0.70);
  private final ParityPoint close = point(ParityPoint.JOB, 40, 1.001, 0.70);
  private final ParityPoint broken = point(ParityPoint.JOB, 40, 2.0, 0.125);

  @Test
  void eitherOrderGivesTheSameComparisonOnceBothReachedTheStep() {
    var referenceFirst =
        BesideParity.decide(spec, null, Gang.ended(reference), Gang.training(broken));
    var jobFirst = BesideParity.decide(spec, null, Gang.training(reference), Gang.ended(broken));
    for (var d : new BesideParity.Decision[] {referenceFirst, jobFirst}) {
      assertThat(d).isInstanceOf(BesideParity.Compare.class);
      BesideParity.Compare c = (BesideParity.Compare) d;
      assertThat(c.status().withinBounds).isFalse();
      assertThat(c.status().accuracyDropPoints)
          .isEqualTo(57.5, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(c.failJob()).as("action fail and exceeded").isTrue();
    }
    var passed = BesideParity.decide(spec, null, Gang.training(reference), Gang.training(close));
    assertThat(((BesideParity.Compare) passed).status().withinBounds).isTrue();
    assertThat(((BesideParity.Compare) passed).failJob()).isFalse();
    var warned =
        BesideParity.decide(
            spec(ParitySpec.Action.WARN), null, Gang.training(reference), Gang.training(broken));
    assertThat(((BesideParity.Compare) warned).failJob()).as("warn only records").isFalse();
  }

  @Test
  void aJobThatFinishesFirstWaitsForTheReferenceAndAnEndWithoutFiguresCannotCompare() {
    var waiting = BesideParity.decide(spec, null, Gang.training(null), Gang.ended(close));
    assertThat(waiting)
        .isEqualTo(new BesideParity.Wait(true, ((BesideParity.Wait) waiting).message()));
    assertThat(((BesideParity.Wait) waiting).holdJobsEnd()).isTrue();

    var bothTraining = BesideParity.decide(spec, null, Gang.training(null), Gang.training(null));
    assertThat(((BesideParity.Wait) bothTraining).holdJobsEnd()).isFalse();
    var referenceAhead =
        BesideParity.decide(spec, null, Gang.training(reference), Gang.training(null));
    assertThat(((BesideParity.Wait) referenceAhead).holdJobsEnd()).isFalse();

    assertThat(BesideParity.decide(spec, null, Gang.ended(null), Gang.training(close)))
        .isInstanceOf(BesideParity.CannotCompare.class);
    assertThat(BesideParity.decide(spec, null, Gang.training(reference), Gang.ended(null)))
        .isInstanceOf(BesideParity.CannotCompare.class);
  }

  @Test
  void restartsDoNotChangeTheFiguresKeptNorAComparisonMade() {
    // A restarted gang reports the step again (from a checkpoint before it): the first figures
    // stay.
    ParityPoint again = point(ParityPoint.JOB, 40, 1.5, 0.5);
    assertThat(BesideParity.keep(close, again, 40)).isSameAs(close);
    assertThat(BesideParity.keep(null, close, 40)).isSameAs(close);
    // A report of another step (before the step, or a stale poll) is not the gang's figures.
    assertThat(BesideParity.keep(null, point(ParityPoint.JOB, 30, 1.0, 0.7), 40)).isNull();
    assertThat(BesideParity.keep(null, null, 40)).isNull();

    ReferenceParityStatus compared = new ReferenceParityStatus();
    compared.phase = ReferenceParityStatus.COMPARED;
    assertThat(BesideParity.decide(spec, compared, Gang.training(reference), Gang.training(again)))
        .isInstanceOf(BesideParity.Done.class);
  }

  private static MixedPrecisionJob job(ParitySpec.Reference spec, ReferenceParityStatus before) {
    MixedPrecisionJob job = MockCluster.quickstart("side");
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.reference = spec;
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().parity = new ParityStatus();
    job.getStatus().parity.reference = before;
    return job;
  }

  private static ReferenceGangStatus gang(JobPhase phase) {
    ReferenceGangStatus g = new ReferenceGangStatus();
    g.phase = phase;
    g.attempt = 1;
    return g;
  }

  private static Replica replica(int rank, String phase, Integer exit) {
    return new Replica("side-worker-" + rank, rank, 1, 2, "s", phase, exit, null, false);
  }

  @Test
  void figuresReportedInEarlierReconcilesAreKeptInTheStatusUntilBothAreThere() {
    ParitySpec.Reference warn = spec(ParitySpec.Action.WARN);
    var first =
        BesideParity.next(
            job(warn, null), gang(JobPhase.Running), reference, null, /* jobEnded */ false);
    assertThat(first.decision()).isInstanceOf(BesideParity.Wait.class);
    assertThat(first.status().phase).isEqualTo(ReferenceParityStatus.WAITING);
    assertThat(first.status().reference).isSameAs(reference);
    assertThat(first.status().gang.phase).isEqualTo(JobPhase.Running);

    // The next reconcile: the reference's figures come from the status, the job's from its report.
    var second =
        BesideParity.next(job(warn, first.status()), gang(JobPhase.Succeeded), null, close, false);
    assertThat(second.decision()).isInstanceOf(BesideParity.Compare.class);
    assertThat(second.status().phase).isEqualTo(ReferenceParityStatus.COMPARED);
    assertThat(second.status().withinBounds).isTrue();
    assertThat(second.status().gang.phase)
        .as("the gang's status rides along")
        .isEqualTo(JobPhase.Succeeded);

    MixedPrecisionJobStatus after = new MixedPrecisionJobStatus();
    after.conditions = new java.util.ArrayList<>();
    BesideParity.record(
        after, second, new Verdict.Observe(JobPhase.Running, 1, 2, 2), Instant.EPOCH, 1L);
    assertThat(after.parity.reference).isSameAs(second.status());
    assertThat(after.conditions)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("PrecisionParity");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("ReferenceParityPassed");
            });
  }

  @Test
  void theJobsEndWaitsForTheVerdictAndActionFailFailsItWithItsOwnReason() {
    List<Replica> replicas = List.of(replica(0, "Succeeded", 0), replica(1, "Running", null));
    Verdict succeed = new Verdict.Succeed("rank 0 finished training", List.of("side-worker-1"));

    var waiting = BesideParity.next(job(spec, null), gang(JobPhase.Running), null, broken, true);
    Verdict held = BesideParity.verdict(succeed, waiting, replicas);
    assertThat(held).isEqualTo(new Verdict.Observe(JobPhase.Running, 1, 2, 0));
    MixedPrecisionJobStatus after = new MixedPrecisionJobStatus();
    after.conditions = new java.util.ArrayList<>();
    BesideParity.record(after, waiting, held, Instant.EPOCH, 1L);
    assertThat(after.message).contains("training finished", "waiting for the FP32 reference");
    assertThat(after.conditions).as("no verdict yet").isEmpty();

    var exceeded =
        BesideParity.next(
            job(spec, waiting.status()), gang(JobPhase.Succeeded), reference, null, true);
    Verdict failed = BesideParity.verdict(succeed, exceeded, replicas);
    assertThat(failed).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) failed).reason()).isEqualTo("ParityExceeded");
    assertThat(((Verdict.Fail) failed).message()).contains("checkpoints kept");
    assertThat(failed.podsToStop()).containsExactly("side-worker-1");

    var warned =
        BesideParity.next(
            job(spec(ParitySpec.Action.WARN), waiting.status()),
            gang(JobPhase.Succeeded),
            reference,
            null,
            true);
    assertThat(BesideParity.verdict(succeed, warned, replicas)).isSameAs(succeed);

    var cannot = BesideParity.next(job(spec, null), gang(JobPhase.Failed), null, null, false);
    assertThat(cannot.status().phase).isEqualTo(ReferenceParityStatus.CANNOT_COMPARE);
    assertThat(BesideParity.verdict(succeed, cannot, replicas)).isSameAs(succeed);
    MixedPrecisionJobStatus unknown = new MixedPrecisionJobStatus();
    unknown.conditions = new java.util.ArrayList<>();
    BesideParity.record(unknown, cannot, succeed, Instant.EPOCH, 1L);
    assertThat(unknown.conditions)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getStatus()).isEqualTo("Unknown");
              assertThat(c.getReason()).isEqualTo("CannotCompare");
              assertThat(c.getMessage())
                  .contains("the FP32 reference ended without reaching step 40");
            });
  }

  @Test
  void anFp32FallbackBeforeTheStepLeavesNoComparison() {
    Verdict fallback =
        new Verdict.Restart(2, false, Divergence.FALLBACK_REASON, "falling back", List.of());
    var outcome =
        BesideParity.next(job(spec, null), gang(JobPhase.Running), reference, null, fallback);
    assertThat(outcome.decision()).isInstanceOf(BesideParity.CannotCompare.class);
    assertThat(outcome.status().phase).isEqualTo(ReferenceParityStatus.CANNOT_COMPARE);
    assertThat(outcome.status().message).contains("fell back to FP32", "step 40");
    assertThat(outcome.status().reference).as("the figures kept stay").isSameAs(reference);
    Verdict restart = new Verdict.Restart(2, true, "ReplicaFailed", "failed", List.of());
    assertThat(
            BesideParity.next(job(spec, null), gang(JobPhase.Running), reference, null, restart)
                .decision())
        .as("an ordinary restart keeps waiting")
        .isInstanceOf(BesideParity.Wait.class);
  }
}
