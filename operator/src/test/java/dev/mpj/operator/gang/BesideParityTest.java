package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.operator.gang.BesideParity.Gang;
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
}
