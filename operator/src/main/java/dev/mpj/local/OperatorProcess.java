package dev.mpj.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code mpj local --operator-process}: the operator in a process of its own, against the
 * in-process API server (which outlives it), started again whenever it ends, as a Deployment's pod
 * is. Its pid is in {@code <work dir>/operator/pid} (replaced at each start), its output appended
 * to {@code <work dir>/operator/log.txt}; {@code kill -KILL $(cat operator/pid)} kills it as the
 * kernel would, with no shutdown hook, and the next one starts after {@link #RESTART_DELAY}.
 */
public final class OperatorProcess implements AutoCloseable {
  /** How long after an operator process ended the next one starts (a pod's first back-off). */
  static final Duration RESTART_DELAY = Duration.ofSeconds(1);

  /** How long {@link #close} waits for SIGTERM to end the operator before SIGKILL. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final List<String> command;
  private final Path dir;
  private final Consumer<String> say;
  private final Thread supervisor;
  private volatile boolean closing;
  private Process current;
  private int started;

  private OperatorProcess(List<String> command, Path dir, Consumer<String> say) {
    this.command = List.copyOf(command);
    this.dir = dir;
    this.say = say;
    this.supervisor = new Thread(this::supervise, "mpj-local-operator-supervisor");
    this.supervisor.setDaemon(true);
  }

  /**
   * Starts {@code command} (the operator's JVM, which takes the API server's URL as its last
   * argument) and keeps it running until {@link #close}; {@code dir} gets its pid file and log.
   */
  public static OperatorProcess start(List<String> command, Path dir, Consumer<String> say)
      throws IOException {
    Files.createDirectories(dir);
    OperatorProcess operator = new OperatorProcess(command, dir, say);
    operator.launch();
    operator.supervisor.start();
    return operator;
  }

  /**
   * The command of the operator's JVM: this JVM's java and class path, {@code mainClass} with the
   * API server's {@code url}.
   */
  public static List<String> javaCommand(String mainClass, String url) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass, url));
    return command;
  }

  /** Operator processes started so far (1 before any restart). */
  public synchronized int started() {
    return started;
  }

  private synchronized void launch() throws IOException {
    Path log = dir.resolve("log.txt");
    started++;
    Files.writeString(
        log,
        "--- operator process " + started + System.lineSeparator(),
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    current =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    Path partial = dir.resolve("pid.partial");
    Files.writeString(partial, String.valueOf(current.pid()));
    Files.move(
        partial,
        dir.resolve("pid"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    say.accept("operator process " + started + " started (pid " + current.pid() + ")");
  }

  private void supervise() {
    while (!closing) {
      Process running;
      synchronized (this) {
        running = current;
      }
      int exitCode;
      try {
        exitCode = running.waitFor();
      } catch (InterruptedException e) {
        return;
      }
      if (closing) {
        return;
      }
      say.accept(
          "operator process "
              + started()
              + " (pid "
              + running.pid()
              + ") ended with exit code "
              + exitCode
              + "; starting it again in "
              + RESTART_DELAY.toSeconds()
              + " s");
      try {
        Thread.sleep(RESTART_DELAY.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        if (closing) {
          return;
        }
        try {
          launch();
        } catch (IOException e) {
          say.accept("operator process could not be started again: " + e.getMessage());
          return;
        }
      }
    }
  }

  /**
   * Stops the operator: SIGTERM (its shutdown hook closes it), SIGKILL after {@link #STOP_GRACE}.
   */
  @Override
  public void close() throws InterruptedException {
    Process running;
    synchronized (this) {
      closing = true;
      running = current;
    }
    supervisor.interrupt();
    if (running != null && running.isAlive()) {
      running.destroy();
      if (!running.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        running.destroyForcibly();
        running.waitFor();
      }
    }
  }
}
