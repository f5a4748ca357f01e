package dev.mpj.trainer.parity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.parity.ReferenceComparison;
import dev.mpj.trainer.loop.Evaluation;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * Rank 0's half of reference parity (spec.parity.reference): at the compared step it evaluates the
 * working weights on the validation split and takes the mean training loss over the window ending
 * there. The FP32 reference run only records these figures; the job's own run compares them with
 * the reference's ({@link ReferenceComparison}) and, with action fail, stops after that step when a
 * threshold is exceeded. Either way the result goes to {@code reference-parity.json} in the output
 * folder and to {@code /progress}, where the operator reads it.
 */
public final class ReferenceParityListener implements TrainingListener {
  /** The file in the output folder. */
  public static final String FILE = "reference-parity.json";

  /** Thrown by the session's run() after the compared step, with action fail. */
  public static final class Exceeded extends RuntimeException {
    public Exceeded(String message) {
      super(message);
    }
  }

  private record Loss(long step, double loss) {}

  private final TrainingSession session;
  private final TrainerConfig.ReferenceParity config;
  private final ParitySpec.Reference spec;
  private final String precision;
  private final Path output;
  private final Consumer<ReferenceParityStatus> report;
  private final PrintStream log;
  private final Deque<Loss> window = new ArrayDeque<>();

  /**
   * @param spec the job's spec.parity.reference (thresholds and action); null for the reference
   *     run, whose spec has none
   * @param report where the result goes (the trainer's /progress)
   */
  public ReferenceParityListener(
      TrainingSession session,
      TrainerConfig.ReferenceParity config,
      ParitySpec.Reference spec,
      String precision,
      Path output,
      Consumer<ReferenceParityStatus> report,
      PrintStream log) {
    this.session = session;
    this.config = config;
    this.spec = spec;
    this.precision = precision;
    this.output = output;
    this.report = report;
    this.log = log;
  }

  @Override
  public void onStep(StepResult s) {
    if (s.step() > config.step) {
      return;
    }
    window.addLast(new Loss(s.step(), s.loss()));
    while (window.size() > Math.max(1, config.windowSteps)) {
      window.removeFirst();
    }
    if (s.step() != config.step) {
      return;
    }
    ParityPoint point = point(session.evaluateWorking());
    ReferenceParityStatus status;
    boolean referenceRun = Boolean.TRUE.equals(config.referenceRun);
    if (referenceRun || config.reference == null || spec == null) {
      status = new ReferenceParityStatus();
      status.step = point.step;
      if (referenceRun) {
        status.reference = point;
      } else {
        status.candidate = point;
      }
      log.printf(
          "mpj-trainer: reference parity: %s run at step %d: validation loss %.4g%s%n",
          point.run,
          point.step,
          point.validationLoss,
          point.validationAccuracy == null
              ? ""
              : String.format(" accuracy %.4f", point.validationAccuracy));
    } else {
      status = ReferenceComparison.status(config.reference, point, spec);
      log.println("mpj-trainer: " + status.message);
    }
    write(status);
    report.accept(status);
    if (Boolean.FALSE.equals(status.withinBounds) && spec.action == ParitySpec.Action.FAIL) {
      session.stopAfterThisStep(
          new Exceeded(status.message + "; stopping for spec.parity.reference.action fail"));
    }
  }

  private ParityPoint point(Evaluation validation) {
    ParityPoint p = new ParityPoint();
    p.run = Boolean.TRUE.equals(config.referenceRun) ? ParityPoint.REFERENCE : ParityPoint.JOB;
    p.precision = precision;
    p.step = config.step;
    p.validationLoss = finite(validation.loss());
    p.validationAccuracy = validation.accuracy();
    double mean = window.stream().mapToDouble(Loss::loss).average().orElse(Double.NaN);
    p.trainingLoss = finite(mean);
    p.windowFrom = window.isEmpty() ? null : window.getFirst().step();
    p.windowTo = window.isEmpty() ? null : window.getLast().step();
    return p;
  }

  private void write(ReferenceParityStatus status) {
    try {
      Files.write(
          output.resolve(FILE),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(status));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * JSON and the status hold numbers only: a non-finite figure is left out (never within bounds).
   */
  private static Double finite(double d) {
    return Double.isFinite(d) ? d : null;
  }
}
