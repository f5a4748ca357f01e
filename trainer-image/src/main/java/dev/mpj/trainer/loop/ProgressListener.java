package dev.mpj.trainer.loop;

import java.io.PrintStream;

/** A line on stderr every so many steps: where the run is and how it goes. */
public final class ProgressListener implements TrainingListener {
  private final PrintStream out;
  private final long totalSteps;
  private final long every;

  public ProgressListener(PrintStream out, long totalSteps) {
    this.out = out;
    this.totalSteps = totalSteps;
    this.every = Math.max(1, totalSteps / 10);
  }

  @Override
  public void onStep(StepResult s) {
    if (s.step() % every == 0 || s.step() == totalSteps || s.parity() != null) {
      out.printf(
          "step %d/%d loss %.4f scale %.0f%s%s%n",
          s.step(),
          totalSteps,
          s.loss(),
          s.lossScale(),
          s.overflow() ? " (skipped: overflow)" : "",
          s.parity() == null ? "" : String.format(" parity gap %.4g", s.parity().relativeGap()));
    }
  }

  @Override
  public void onEnd(RunSummary s) {
    out.printf(
        "done: %d steps (%d skipped), validation loss %.4f%s, %.1f s%n",
        s.steps(),
        s.skippedSteps(),
        s.validation().loss(),
        s.validation().accuracy() == null
            ? ""
            : String.format(" accuracy %.4f", s.validation().accuracy()),
        s.wallSeconds());
  }
}
