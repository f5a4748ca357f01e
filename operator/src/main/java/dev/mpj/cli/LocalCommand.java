package dev.mpj.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code mpj local}. */
@Command(name = "local", mixinStandardHelpOptions = true, description = "Run a job on this machine: an in-process API server, the operator, and trainer processes.")
final class LocalCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("mpj local: not available in this build yet");
    return 1;
  }
}
