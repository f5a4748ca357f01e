package dev.mpj.chart;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The repository these tests check, and the command-line tools they run on it (helm, lua5.4): from
 * .ci/tools (where .ci/install-tools puts them) or the PATH.
 */
final class RepoTools {

  /** What a tool printed and how it exited. */
  record Run(int exitCode, String stdout, String stderr) {}

  private RepoTools() {}

  /** The repository root: the nearest folder above the module that holds the chart. */
  static Path repoRoot() {
    Path dir = Paths.get("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("charts/mpj-operator/Chart.yaml"))
          && Files.isRegularFile(d.resolve("pom.xml"))) {
        return d;
      }
    }
    throw new IllegalStateException("no charts/mpj-operator/Chart.yaml above " + dir);
  }

  static Optional<Path> find(String tool) {
    Path ci = repoRoot().resolve(".ci/tools").resolve(tool);
    if (Files.isExecutable(ci)) {
      return Optional.of(ci);
    }
    String path = System.getenv().getOrDefault("PATH", "");
    return Arrays.stream(path.split(File.pathSeparator))
        .filter(p -> !p.isEmpty())
        .map(p -> Paths.get(p).resolve(tool))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** The tool, or the test is skipped with a message saying how to get it. */
  static Path require(String tool) {
    Optional<Path> found = find(tool);
    assumeTrue(
        found.isPresent(),
        tool
            + " not found in .ci/tools or on the PATH: test skipped (bash .ci/install-tools installs it;"
            + " .ci/run does, so CI never skips)");
    return found.get();
  }

  static Run run(List<String> command, String stdin) {
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(repoRoot().toFile())
              .redirectErrorStream(false)
              .start();
      CompletableFuture<String> out = readAsync(process.getInputStream());
      CompletableFuture<String> err = readAsync(process.getErrorStream());
      try (var in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("timed out after 60 s: " + command);
      }
      return new Run(process.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static List<String> command(Path tool, String... args) {
    List<String> command = new ArrayList<>();
    command.add(tool.toString());
    command.addAll(List.of(args));
    return command;
  }

  private static CompletableFuture<String> readAsync(InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (stream) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            stream.transferTo(buffer);
            return buffer.toString(StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
