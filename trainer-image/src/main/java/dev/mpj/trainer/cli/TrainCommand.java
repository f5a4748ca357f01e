package dev.mpj.trainer.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code mpj-trainer train}. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train one job: standalone with -f JOB.yaml, or in a pod with --config FILE.")
final class TrainCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("mpj-trainer train: not available in this build yet");
    return 1;
  }
}
