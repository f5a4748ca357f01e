package dev.mpj.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.TrainerContract;
import dev.mpj.metrics.PrometheusExposition;
import dev.mpj.testing.Eventually;
import dev.mpj.trainer.cli.TrainerCommand;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpj-trainer train} as a pod runs it: the port and token from the environment the operator
 * sets.
 */
class TrainerProcessEndpointsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final String TOKEN = "a-job-token";

  @TempDir Path dir;
  private Process trainer;

  @AfterEach
  void stop() throws InterruptedException {
    if (trainer != null) {
      trainer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aTrainerServesMetricsAndProgressOnTheEnvironmentsPortWithTheJobsToken() throws Exception {
    int port = freePort();
    trainer =
        start(
            Map.of(
                "MPJ_METRICS_PORT",
                Integer.toString(port),
                "MPJ_JOB_TOKEN",
                TOKEN,
                "MPJ_JOB_NAME",
                "from-env"));

    JsonNode progress =
        Eventually.await(
            Duration.ofSeconds(60),
            () -> {
              assertThat(trainer.isAlive())
                  .as("trainer still running; its log: %s", log())
                  .isTrue();
              HttpResponse<String> response = get(port, "/progress", "Bearer " + TOKEN);
              if (response == null) {
                return null;
              }
              assertThat(response.statusCode()).isEqualTo(200);
              JsonNode read = JSON.readTree(response.body());
              return read.get("step").asLong() >= 3 ? read : null;
            },
            () -> "no progress past step 3");
    assertThat(progress.get("totalSteps").asLong()).isEqualTo(100_000);
    assertThat(progress.get("loss").isNumber()).isTrue();
    assertThat(get(port, "/progress", null).statusCode()).isEqualTo(401);
    assertThat(get(port, "/progress", "Bearer wrong").statusCode()).isEqualTo(401);

    PrometheusExposition scrape = PrometheusExposition.parse(get(port, "/metrics", null).body());
    Map<String, String> labels =
        Map.of("job_name", "from-env", "namespace", "default", "replica", "0");
    assertThat(scrape.value("mpj_trainer_step", labels).orElseThrow())
        .isGreaterThanOrEqualTo(progress.get("step").asDouble());
    assertThat(scrape.value("mpj_trainer_step_duration_seconds_count", labels).orElseThrow())
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void aPortThatIsNotANumberIsBadInputAndNothingIsWritten() throws Exception {
    trainer = start(Map.of("MPJ_METRICS_PORT", "metrics"));
    assertThat(trainer.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(trainer.exitValue()).isEqualTo(TrainerContract.EXIT_BAD_CONFIG);
    assertThat(log()).contains("MPJ_METRICS_PORT").contains("metrics");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  private Process start(Map<String, String> env) throws IOException {
    Path job = dir.resolve("job.yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: in-the-file}
        spec:
          precision: fp32
          model:
            architecture: mlp
            mlp: {hiddenSizes: [16], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 512, features: 16, classes: 4}
            validationFraction: 0.2
          training:
            globalBatchSize: 32
            steps: 100000
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
        """);
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp",
                System.getProperty("java.class.path"),
                TrainerCommand.class.getName(),
                "train",
                "-f",
                job.toString(),
                "--output",
                dir.resolve("out").toString()));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("trainer.log").toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("MPJ_"));
    builder.environment().putAll(env);
    return builder.start();
  }

  private String log() throws IOException {
    return Files.readString(dir.resolve("trainer.log"));
  }

  /** The answer, or null while nothing listens on the port yet. */
  private static HttpResponse<String> get(int port, String path, String authorization)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    try {
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      return null;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
