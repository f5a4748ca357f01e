package dev.mpj.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code mpj operator}. */
@Command(name = "operator", mixinStandardHelpOptions = true, description = "Run the operator against the cluster of the current kubeconfig, or in-cluster.")
final class OperatorCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("mpj operator: not available in this build yet");
    return 1;
  }
}
