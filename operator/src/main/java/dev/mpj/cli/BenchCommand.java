package dev.mpj.cli;

import dev.mpj.bench.MemoryBenchCommand;
import dev.mpj.bench.OperatorBenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mpj bench}: measurements a person runs by hand; none of them is a test. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks that check the operator's models against real runs on this machine.",
    subcommands = {MemoryBenchCommand.class, OperatorBenchCommand.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
