package dev.mpj.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code mpj plan}. */
@Command(name = "plan", mixinStandardHelpOptions = true, description = "Print the sizing plan of a job (replicas, micro-batch, accumulation, GPUs saved) without a cluster.")
final class PlanCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("mpj plan: not available in this build yet");
    return 1;
  }
}
