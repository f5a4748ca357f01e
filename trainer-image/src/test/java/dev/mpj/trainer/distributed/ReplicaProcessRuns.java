package dev.mpj.trainer.distributed;

import dev.mpj.trainer.collective.RendezvousConfig;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts replicas as real JVMs on this machine, on the test's class path, with each rank's
 * environment.
 */
final class ReplicaProcessRuns implements AutoCloseable {

  /**
   * One libtorch thread per process (as the module's surefire JVM), a small heap, quick start-up.
   */
  static final List<String> JVM =
      List.of(
          "-Dai.djl.offline=true",
          "-Dai.djl.pytorch.num_threads=1",
          "-Dai.djl.pytorch.num_interop_threads=1",
          "-Xmx256m",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-Xss4m");

  static final String TOKEN = "replica-test-token-0123456789";

  private final List<Process> started = new ArrayList<>();

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RendezvousConfig rendezvous(int worldSize, Duration operationTimeout) {
    return new RendezvousConfig(
        0, worldSize, "127.0.0.1", freePort(), TOKEN, operationTimeout, Duration.ofSeconds(60), 0);
  }

  /**
   * Starts {@code mainClass args} as the rank of {@code config}; stdout and stderr go to {@code
   * log}.
   */
  Process start(RendezvousConfig config, Class<?> mainClass, List<String> args, Path log)
      throws IOException {
    return start(config.toEnv(), mainClass, args, log);
  }

  Process start(Map<String, String> env, Class<?> mainClass, List<String> args, Path log)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("MPJ_"));
    builder.environment().putAll(env);
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    Process process = builder.start();
    started.add(process);
    return process;
  }

  /** Waits for {@code process}; its exit code, or fails the test when it has not ended in time. */
  static int exitCode(Process process, Duration limit, Path log) throws Exception {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(
          "a replica did not end within " + limit + "; its log:\n" + read(log));
    }
    return process.exitValue();
  }

  static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "(no log)";
    } catch (IOException e) {
      return "(unreadable log: " + e.getMessage() + ")";
    }
  }

  static String path(File file) {
    return file.getAbsolutePath();
  }

  @Override
  public void close() {
    started.forEach(Process::destroyForcibly);
  }
}
