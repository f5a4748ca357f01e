package dev.mpj.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.parity.RunComparison;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mpj-trainer compare}: reference parity of two finished runs' output folders. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Reference parity: a candidate run (e.g. fp16-mixed) against an FP32 reference run of the"
            + " same job, from their output folders. Exit 0 within bounds (or action warn), 3 when"
            + " a threshold is exceeded with --action fail, 2 on bad input.")
final class CompareCommand implements Callable<Integer> {
  @Option(names = "--reference", required = true, description = "Output folder of the FP32 run.")
  Path reference;

  @Option(names = "--candidate", required = true, description = "Output folder of the run checked.")
  Path candidate;

  @Option(
      names = "--max-accuracy-drop",
      defaultValue = "1.0",
      description = "Percentage points the candidate's validation accuracy may lose (default 1.0).")
  double maxAccuracyDrop;

  @Option(
      names = "--max-relative-loss-gap",
      defaultValue = "0.05",
      description =
          "Largest |candidate - reference| / reference of the validation loss and of the mean"
              + " training loss over the window (default 0.05).")
  double maxRelativeLossGap;

  @Option(
      names = "--window-steps",
      defaultValue = "50",
      description = "The last steps both runs have, over which the training losses are compared.")
  int windowSteps;

  @Option(
      names = "--action",
      defaultValue = "warn",
      description = "warn: report only (exit 0); fail: exit 3 when a threshold is exceeded.")
  String action;

  @Option(names = "--json", description = "Print the comparison as JSON instead of lines.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    try {
      if (!action.equals("warn") && !action.equals("fail")) {
        throw new InvalidJobException("--action", "is warn or fail, not " + action);
      }
      if (windowSteps < 1) {
        throw new InvalidJobException("--window-steps", "must be at least 1");
      }
      RunComparison.Result r =
          RunComparison.compare(
              RunComparison.read(reference, "--reference"),
              RunComparison.read(candidate, "--candidate"),
              new RunComparison.Thresholds(maxAccuracyDrop, maxRelativeLossGap, windowSteps));
      if (json) {
        System.out.println(
            new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(r.toMap()));
      } else {
        print(r);
      }
      return !r.withinBounds() && action.equals("fail") ? TrainerContract.EXIT_PARITY_FAILURE : 0;
    } catch (InvalidJobException e) {
      System.err.println("mpj-trainer compare: " + e.getMessage());
      return TrainerContract.EXIT_BAD_CONFIG;
    }
  }

  private void print(RunComparison.Result r) {
    System.out.printf(
        "reference %s: validation loss %.4f%s%n",
        r.reference().precision(),
        r.reference().validationLoss(),
        accuracy(r.reference().validationAccuracy()));
    System.out.printf(
        "candidate %s: validation loss %.4f%s%n",
        r.candidate().precision(),
        r.candidate().validationLoss(),
        accuracy(r.candidate().validationAccuracy()));
    if (r.accuracyDropPoints() != null) {
      System.out.printf(
          "accuracy drop %.2f points (max %.2f)%n", r.accuracyDropPoints(), maxAccuracyDrop);
    }
    System.out.printf(
        "validation loss gap %.4f, training loss gap %.4f over steps %d-%d (max %.4f)%n",
        r.validationLossGap(),
        r.trainingLossGap(),
        r.firstWindowStep(),
        r.lastWindowStep(),
        maxRelativeLossGap);
    System.out.println(
        r.withinBounds()
            ? "parity: within bounds"
            : "parity: exceeded " + String.join(", ", r.exceeded()) + " (action " + action + ")");
  }

  private static String accuracy(Double a) {
    return a == null ? "" : String.format(", accuracy %.4f", a);
  }
}
