package dev.mpj.local;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code mpj local} as a person runs it: a separate JVM with the real trainer launcher, so that
 * signals, exit codes and processes are real. Needs the trainer packaged (a full {@code mvn verify}
 * packages trainer-image before the operator's tests run); skipped with a message otherwise.
 */
final class LocalProcess {
  static final Path ROOT = repositoryRoot();

  private LocalProcess() {}

  static Path trainerLauncher() {
    Path jar = ROOT.resolve("trainer-image/target/mpj-trainer.jar");
    assumeTrue(
        Files.exists(jar),
        "the trainer is not packaged (" + jar + "); run mvn -B verify from the top");
    return ROOT.resolve("bin/mpj-trainer");
  }

  /** Starts {@code mpj local} with these arguments; its output goes to {@code log}. */
  static Process start(Path log, String... args) throws IOException {
    Path launcher = trainerLauncher();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.mpj.cli.MpjCommand",
                "local",
                "--trainer",
                launcher.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    // One libtorch thread per trainer: the replicas share this machine's cores.
    builder
        .environment()
        .put(
            "MPJ_TRAINER_JAVA_OPTS",
            "-Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1");
    return builder.start();
  }

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("docs/examples"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "repository root not found above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }
}
