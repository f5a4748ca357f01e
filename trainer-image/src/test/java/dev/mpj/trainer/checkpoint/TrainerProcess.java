package dev.mpj.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code mpj-trainer train -f JOB --output DIR} as a child JVM, as a pod runs it: it can be killed
 * for real.
 */
final class TrainerProcess {
  private static final ObjectMapper JSON = new ObjectMapper();
  final Process process;
  final Path output;
  final Path log;

  private TrainerProcess(Process process, Path output, Path log) {
    this.process = process;
    this.output = output;
    this.log = log;
  }

  static TrainerProcess start(Path job, Path output, String... extra) throws IOException {
    return start(List.of(), job, output, extra);
  }

  /** As {@link #start(Path, Path, String...)}, with more options for the child JVM. */
  static TrainerProcess start(List<String> jvmOptions, Path job, Path output, String... extra)
      throws IOException {
    Files.createDirectories(output.getParent());
    Path log = Files.createTempFile(output.getParent(), "trainer", ".log");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Xmx512m"));
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "dev.mpj.trainer.cli.TrainerCommand",
            "train",
            "-f",
            job.toString(),
            "--output",
            output.toString()));
    command.addAll(List.of(extra));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().remove("MPJ_CHECKPOINT_DIR");
    builder.environment().remove("MPJ_TERMINATION_GRACE_SECONDS");
    return new TrainerProcess(builder.start(), output, log);
  }

  /** Runs to the end; returns the exit code. */
  static int run(Path job, Path output) throws Exception {
    TrainerProcess p = start(job, output);
    return p.waitFor(120);
  }

  int waitFor(int seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("trainer did not end within " + seconds + " s: " + log());
    }
    return process.exitValue();
  }

  /** Waits until metrics.jsonl shows {@code step} (or later); fails if the process ends first. */
  void awaitStep(long step) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (lastStep(output) < step) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "trainer ended (exit " + process.exitValue() + ") before step " + step + ": " + log());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no step " + step + " in 90 s: " + log());
      }
      Thread.sleep(2);
    }
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The last complete line's step in metrics.jsonl, 0 when there is none. */
  static long lastStep(Path output) throws IOException {
    Path metrics = output.resolve("metrics.jsonl");
    if (!Files.exists(metrics)) {
      return 0;
    }
    long last = 0;
    for (String line : Files.readAllLines(metrics)) {
      try {
        last = Math.max(last, JSON.readTree(line).path("step").asLong(0));
      } catch (IOException e) {
        // a line being written
      }
    }
    return last;
  }
}
