package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C on {@code mpj local} stops the trainers gracefully and leaves no process behind; so does a
 * SIGKILL, without the grace.
 */
class LocalInterruptTest {

  @Test
  void sigintStopsEveryTrainerGracefully(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("mpj-local.log");
    Process local = startTraining(dir, log);
    try {
      List<ProcessHandle> trainers =
          awaitTrainers(dir.resolve("work"), 2, Duration.ofSeconds(90), local, log);
      awaitTraining(dir.resolve("work"), Duration.ofSeconds(60));

      new ProcessBuilder("kill", "-INT", Long.toString(local.pid())).start().waitFor();

      assertThat(local.waitFor(90, TimeUnit.SECONDS)).as("mpj local exits after SIGINT").isTrue();
      for (ProcessHandle trainer : trainers) {
        trainer.onExit().get(10, TimeUnit.SECONDS);
        assertThat(trainer.isAlive()).as("trainer %d", trainer.pid()).isFalse();
      }
      String output = Files.readString(log);
      assertThat(output).contains("interrupted; stopping the trainers gracefully");
      assertThat(output).as("no trainer needed SIGKILL").doesNotContain("SIGKILL");
    } finally {
      local.destroyForcibly();
    }
  }

  /** mpj local cannot stop its trainers when it is killed: they stop themselves. */
  @Test
  void sigkillOfMpjLocalLeavesNoTrainerRunning(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("mpj-local.log");
    Process local = startTraining(dir, log);
    List<ProcessHandle> trainers = List.of();
    try {
      trainers = awaitTrainers(dir.resolve("work"), 2, Duration.ofSeconds(90), local, log);
      awaitTraining(dir.resolve("work"), Duration.ofSeconds(60));

      local.destroyForcibly();

      assertThat(local.waitFor(30, TimeUnit.SECONDS)).isTrue();
      for (ProcessHandle trainer : trainers) {
        trainer.onExit().get(20, TimeUnit.SECONDS);
        assertThat(trainer.isAlive()).as("trainer %d", trainer.pid()).isFalse();
      }
    } finally {
      local.destroyForcibly();
      trainers.forEach(ProcessHandle::destroyForcibly);
    }
  }

  /** mpj local on the quick-start job, made long enough to be interrupted while it trains. */
  private static Process startTraining(Path dir, Path log) throws Exception {
    Path job = dir.resolve("long.yaml");
    Files.writeString(
        job,
        Files.readString(LocalProcess.ROOT.resolve("docs/examples/quickstart.yaml"))
            .replace("steps: 300", "steps: 1000000"));
    return LocalProcess.start(
        log, "-f", job.toString(), "--work-dir", dir.resolve("work").toString());
  }

  /** The pids the local kubelet wrote for the replicas, once that many are running. */
  private static List<ProcessHandle> awaitTrainers(
      Path workDir, int count, Duration timeout, Process local, Path log) throws Exception {
    return Eventually.await(
        timeout,
        () -> {
          assertThat(local.isAlive())
              .as("mpj local is running; its output: %s", Files.exists(log) ? read(log) : "")
              .isTrue();
          List<ProcessHandle> running =
              pidFiles(workDir).stream()
                  .map(p -> ProcessHandle.of(Long.parseLong(read(p).trim())))
                  .flatMap(Optional::stream)
                  .filter(ProcessHandle::isAlive)
                  .toList();
          return running.size() >= count ? running : null;
        },
        () -> "fewer than " + count + " trainers started; output: " + read(log));
  }

  /**
   * Waits until rank 0 has written metrics, so that the interrupt lands in the middle of training.
   */
  private static void awaitTraining(Path workDir, Duration timeout) throws Exception {
    Eventually.until(
        timeout,
        () -> {
          try (Stream<Path> files = Files.walk(workDir.resolve("pods"))) {
            return files.anyMatch(p -> p.getFileName().toString().equals("metrics.jsonl"));
          }
        },
        () -> "no replica started training");
  }

  private static List<Path> pidFiles(Path workDir) throws Exception {
    Path pods = workDir.resolve("pods");
    if (!Files.isDirectory(pods)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(pods, 2)) {
      return files.filter(p -> p.getFileName().toString().equals("pid")).toList();
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
