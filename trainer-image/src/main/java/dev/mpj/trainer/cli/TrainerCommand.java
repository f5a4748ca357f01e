package dev.mpj.trainer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mpj-trainer}: the program in every replica's pod. */
@Command(
    name = "mpj-trainer",
    mixinStandardHelpOptions = true,
    version = "mpj-trainer 0.1.0",
    description =
        "Mixed precision training on DJL (PyTorch engine): FP16 compute, FP32 master weights.",
    subcommands = {TrainCommand.class, CompareCommand.class, BenchCommand.class})
public final class TrainerCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  public static CommandLine commandLine() {
    return new CommandLine(new TrainerCommand());
  }
}
