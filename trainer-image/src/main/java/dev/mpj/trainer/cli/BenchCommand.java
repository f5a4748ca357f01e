package dev.mpj.trainer.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code mpj-trainer bench}. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure the trainer: overhead against bare DJL, FP32 against FP16-mixed memory, step time split.")
final class BenchCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("mpj-trainer bench: not available in this build yet");
    return 1;
  }
}
