package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.metrics.MetricsEndpoint;
import dev.mpj.operator.resources.JobTokens;
import dev.mpj.operator.sizing.MemorySizer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class OperatorCommandTest {

  private static OperatorSettings settings(String... args) {
    OperatorCommand command = new OperatorCommand();
    new CommandLine(command).parseArgs(args);
    return command.settings();
  }

  @Test
  void flagsBecomeSettings() {
    OperatorSettings s =
        settings(
            "-n",
            "team-a,team-b",
            "--trainer-image",
            "reg/mpj-trainer:1",
            "--default-gpu-memory",
            "80Gi",
            "--trainer-metrics-port",
            "9500",
            "--leader-election",
            "--lease-namespace",
            "mpj-system");
    assertThat(s.namespaces()).containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(s.defaultImage()).isEqualTo("reg/mpj-trainer:1");
    assertThat(s.sizer())
        .isInstanceOfSatisfying(
            MemorySizer.class,
            sizer -> assertThat(sizer.settings().defaultGpuMemoryBytes()).isEqualTo(80L << 30));
    assertThat(s.trainerMetricsPort()).isEqualTo(9500);
    assertThat(s.leaderElection())
        .isEqualTo(new OperatorSettings.LeaderElection("mpj-operator", "mpj-system"));
  }

  @Test
  void defaultsWatchAllNamespacesWithoutLeaderElection() {
    OperatorSettings s = settings();
    assertThat(s.namespaces()).isEmpty();
    assertThat(s.leaderElection()).isNull();
    assertThat(s.defaultImage()).isEqualTo(OperatorSettings.DEFAULT_IMAGE);
  }

  @Test
  void metricsGetTheirOwnPortUnlessBothFlagsNameTheSameOne() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter scrapes = registry.counter("test.scrapes");
    MetricsEndpoint endpoint = new MetricsEndpoint(registry, scrapes::increment);
    try (var apart = OperatorCommand.Endpoints.start(0, 0, () -> true, () -> true, endpoint)) {
      assertThat(apart.metricsPort()).isNotEqualTo(apart.health().port());
      assertThat(get(apart.metricsPort(), "/metrics").body()).contains("test_scrapes_total 1.0");
      assertThat(get(apart.metricsPort(), "/healthz").statusCode()).isEqualTo(404);
      assertThat(get(apart.health().port(), "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(apart.health().port(), "/metrics").statusCode()).isEqualTo(404);
    }
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    try (var together =
        OperatorCommand.Endpoints.start(port, port, () -> true, () -> false, endpoint)) {
      assertThat(together.metricsPort()).isEqualTo(port);
      assertThat(get(port, "/metrics").body()).contains("test_scrapes_total 2.0");
      assertThat(get(port, "/readyz").statusCode()).isEqualTo(503);
    }
  }

  @Test
  void theMetricsPortFlagIsCheckedLikeTheOthers() {
    StringWriter err = new StringWriter();
    int code =
        MpjCommand.commandLine()
            .setErr(new PrintWriter(err))
            .execute("operator", "--metrics-port", "70000");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--metrics-port").contains("70000");
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void jobTokensComeFromTheKeyFileWithoutItsLineEnd(@TempDir Path dir) throws Exception {
    String key = "k".repeat(JobTokens.MIN_KEY_BYTES);
    Path file = Files.writeString(dir.resolve("key"), key + "\n");
    OperatorSettings s = settings("--token-key-file", file.toString());
    assertThat(s.jobTokens().token("uid-1"))
        .isEqualTo(new JobTokens(key.getBytes(StandardCharsets.UTF_8)).token("uid-1"));
  }

  @Test
  void aShortOrMissingKeyFileIsRefusedNamingTheFlag(@TempDir Path dir) throws Exception {
    Path shortKey = Files.writeString(dir.resolve("key"), "too-short");
    assertThatThrownBy(() -> settings("--token-key-file", shortKey.toString()))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--token-key-file")
        .hasMessageContaining("at least 32 bytes");
    assertThatThrownBy(() -> settings("--token-key-file", dir.resolve("absent").toString()))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--token-key-file")
        .hasMessageContaining("cannot be read");
  }

  @Test
  void aBadFlagIsRefusedWithExitCodeTwoNamingIt() {
    StringWriter err = new StringWriter();
    int code =
        MpjCommand.commandLine()
            .setErr(new PrintWriter(err))
            .execute("operator", "--default-gpu-memory", "lots");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--default-gpu-memory");
  }
}
