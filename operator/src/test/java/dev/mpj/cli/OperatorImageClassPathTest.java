package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator image's class path is operator/target/lib (operator/Dockerfile copies it beside the
 * jar): it must hold what {@code mpj operator} runs on and not the mock API server that only {@code
 * mpj local} embeds, which goes to target/lib-local for bin/mpj.
 */
class OperatorImageClassPathTest {
  private static final Path TARGET = Path.of("target");

  private static List<String> jars(Path dir) throws IOException {
    assertThat(dir).as("%s (the build copies it before the tests)", dir).isDirectory();
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theImageClassPathLacksTheMockApiServer() throws IOException {
    List<String> image = jars(TARGET.resolve("lib"));
    assertThat(image)
        .anyMatch(j -> j.startsWith("operator-framework-core-"))
        .anyMatch(j -> j.startsWith("kubernetes-client-"))
        .noneMatch(j -> j.startsWith("kubernetes-server-mock-"))
        .noneMatch(j -> j.startsWith("mockwebserver-"));
    assertThat(jars(TARGET.resolve("lib-local")))
        .anyMatch(j -> j.startsWith("kubernetes-server-mock-"));
  }

  @Test
  void theImageClassPathRunsTheOperatorCommandAndRefusesMpjLocalClearly() throws Exception {
    String classPath =
        TARGET.resolve("classes").toAbsolutePath()
            + ":"
            + TARGET.resolve("lib").toAbsolutePath()
            + "/*";
    Run help = java(classPath, "operator", "--help");
    assertThat(help.code).as(help.output).isZero();
    assertThat(help.output).contains("--trainer-image");
    Run local = java(classPath, "local", "--serve");
    assertThat(local.code).as(local.output).isEqualTo(2);
    assertThat(local.output).contains("run mpj local from a checkout");
  }

  @Test
  void mpjLocalKeepsServerSideApplyOn() {
    // Its API server applies the operator's status patches (StatusApplyDispatcher).
    assertThat(LocalCommand.operatorSettings().serverSideApply()).isTrue();
  }

  private record Run(int code, String output) {}

  private static Run java(String classPath, String... args) throws Exception {
    List<String> command =
        Stream.concat(
                Stream.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    classPath,
                    "dev.mpj.cli.MpjCommand"),
                Stream.of(args))
            .toList();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }
}
