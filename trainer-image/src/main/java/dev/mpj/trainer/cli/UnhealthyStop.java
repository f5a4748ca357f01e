package dev.mpj.trainer.cli;

import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.metrics.TrainerMetrics;

/** Ends the run after the first step that leaves it unhealthy (spec.parity.onDivergence). */
final class UnhealthyStop implements TrainingListener {
  /** Thrown by the session's run() after that step. */
  static final class Unhealthy extends RuntimeException {
    Unhealthy(String message) {
      super(message);
    }
  }

  private final TrainingSession session;
  private final TrainerMetrics observed;

  UnhealthyStop(TrainingSession session, TrainerMetrics observed) {
    this.session = session;
    this.observed = observed;
  }

  @Override
  public void onStep(StepResult step) {
    var health = observed.health();
    if (!health.healthy()) {
      session.stopAfterThisStep(
          new Unhealthy(
              "training unhealthy at step "
                  + step.step()
                  + " ("
                  + String.join(", ", health.reasonNames())
                  + "): "
                  + health.message()
                  + "; stopping for spec.parity.onDivergence"));
    }
  }
}
