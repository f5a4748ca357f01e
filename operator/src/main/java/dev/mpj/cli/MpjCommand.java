package dev.mpj.cli;

import dev.mpj.chaos.ChaosCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mpj}: the operator, offline sizing, the whole system on one machine, and benchmarks. */
@Command(
    name = "mpj",
    mixinStandardHelpOptions = true,
    versionProvider = MpjVersion.class,
    description = "MPJ: a Kubernetes operator for mixed precision training.",
    subcommands = {
      OperatorCommand.class,
      PlanCommand.class,
      StatusCommand.class,
      LocalCommand.class,
      BenchCommand.class,
      ReportCommand.class,
      ChaosCommand.class
    })
public final class MpjCommand implements Runnable {

  /** Exit code for bad input: a manifest or flag that cannot run as written. Nothing is changed. */
  public static final int EXIT_BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    CommonPool.share();
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests execute it in-process. */
  public static CommandLine commandLine() {
    // picocli answers unknown options and missing parameters with exit code 2 (ExitCode.USAGE)
    // already.
    return new CommandLine(new MpjCommand()).setExecutionExceptionHandler(new BadInputHandler());
  }
}
