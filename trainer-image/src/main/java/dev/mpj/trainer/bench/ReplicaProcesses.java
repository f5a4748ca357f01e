package dev.mpj.trainer.bench;

import dev.mpj.trainer.collective.RendezvousConfig;
import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts replicas as separate JVMs on this machine, each with the rendezvous environment of its
 * rank, running {@link CollectiveWorker} on this JVM's class path: for tests and the benchmark.
 */
public final class ReplicaProcesses {

  private ReplicaProcesses() {}

  /**
   * Starts one {@link CollectiveWorker} process per rank of {@code config}.
   *
   * @param jvmOptions options for each JVM (heap size, JIT)
   * @param logDir where each rank's stderr goes (rank-R.log); null discards it
   * @return the processes by rank; their stdout is a pipe for the caller to read
   */
  public static List<Process> startAll(
      RendezvousConfig config, List<String> jvmOptions, List<String> workerArgs, Path logDir)
      throws IOException {
    List<Process> processes = new ArrayList<>();
    try {
      for (int rank = 0; rank < config.worldSize(); rank++) {
        processes.add(startRank(config.withRank(rank), jvmOptions, workerArgs, logDir));
      }
    } catch (IOException | RuntimeException e) {
      processes.forEach(Process::destroyForcibly);
      throw e;
    }
    return processes;
  }

  /** Starts the process of {@code config}'s rank. */
  public static Process startRank(
      RendezvousConfig config, List<String> jvmOptions, List<String> workerArgs, Path logDir)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // As bin/mpj-trainer: the all-reduce's SIMD reduction needs the module, where this Java has it.
    if (ModuleFinder.ofSystem().find("jdk.incubator.vector").isPresent()) {
      command.add("--add-modules");
      command.add("jdk.incubator.vector");
    }
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CollectiveWorker.class.getName());
    command.addAll(workerArgs);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(config.toEnv());
    builder.redirectError(
        logDir == null
            ? ProcessBuilder.Redirect.DISCARD
            : ProcessBuilder.Redirect.to(
                new File(logDir.toFile(), "rank-" + config.rank() + ".log")));
    return builder.start();
  }
}
