package dev.mpj.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainerContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminationMessageTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void theFileComesFromTheOptionThenTheEnvironmentThenAWritableDefault() throws IOException {
    Path option = dir.resolve("option");
    Path env = dir.resolve("env");
    Path fallback = dir.resolve("termination-log");
    Map<String, String> named =
        Map.of(TrainerContract.ENV_TERMINATION_MESSAGE_PATH, env.toString());

    assertThat(TerminationMessage.target(option, named, fallback)).contains(option);
    assertThat(TerminationMessage.target(null, named, fallback)).contains(env);
    assertThat(TerminationMessage.target(null, Map.of(), fallback)).isEmpty();
    Files.createFile(fallback);
    assertThat(TerminationMessage.target(null, Map.of(), fallback)).contains(fallback);
  }

  @Test
  void anUnwritableFileIsReportedNotThrown() {
    Path nowhere = dir.resolve("missing-folder").resolve("termination-log");
    assertThat(TerminationMessage.write(nowhere, progress("x")))
        .hasValueSatisfying(m -> assertThat(m).contains(nowhere.toString()));
    assertThat(nowhere).doesNotExist();
  }

  @Test
  void aLongMessageDropsItsOptionalPartsToFit() throws IOException {
    Path file = dir.resolve("termination-log");
    assertThat(TerminationMessage.write(file, progress("/ckpt/" + "a".repeat(5000)))).isEmpty();
    assertThat(Files.size(file)).isLessThanOrEqualTo(TrainerContract.TERMINATION_MESSAGE_MAX_BYTES);
    JsonNode message = JSON.readTree(file.toFile());
    assertThat(message.get("step").asInt()).isEqualTo(300);
    assertThat(message.get("lastCheckpoint").get("step").asInt()).isEqualTo(250);
    assertThat(message.get("lastCheckpoint").has("path")).isFalse();
    assertThat(message.has("parity")).isFalse();

    assertThat(TerminationMessage.write(file, progress("/ckpt/step-250"))).isEmpty();
    message = JSON.readTree(file.toFile());
    assertThat(message.get("lastCheckpoint").get("path").asText()).isEqualTo("/ckpt/step-250");
    assertThat(message.get("parity").get("step").asInt()).isEqualTo(300);
  }

  @Test
  void aFailedReplicaLeavesWhyOnOneLineBesideItsProgressWithin4KiB() throws IOException {
    Path file = dir.resolve("termination-log");
    assertThat(
            TerminationMessage.write(
                file, progress("/ckpt/" + "a".repeat(3000)), "rank 0 of 2: lost\nrank 1"))
        .isEmpty();
    assertThat(Files.size(file)).isLessThanOrEqualTo(TrainerContract.TERMINATION_MESSAGE_MAX_BYTES);
    JsonNode message = JSON.readTree(file.toFile());
    assertThat(message.get("reason").asText()).isEqualTo("rank 0 of 2: lost rank 1");
    assertThat(message.get("step").asInt()).isEqualTo(300);

    assertThat(TerminationMessage.write(file, Map.of(), "x".repeat(10_000))).isEmpty();
    message = JSON.readTree(file.toFile());
    assertThat(message.get("reason").asText()).hasSize(FailureReasons.MAX_CHARS);
    assertThat(message.has("step")).as("no progress: only the reason").isFalse();
  }

  @Test
  void referenceParitysVerdictIsKeptWhenTheMessageMustShrink() throws IOException {
    Path file = dir.resolve("termination-log");
    ReferenceParityStatus verdict = new ReferenceParityStatus();
    verdict.phase = ReferenceParityStatus.COMPARED;
    verdict.step = 40L;
    verdict.reference = point(ParityPoint.REFERENCE, 1.0);
    verdict.candidate = point(ParityPoint.JOB, 2.0);
    verdict.withinBounds = false;
    verdict.accuracyDropPoints = 57.5;
    verdict.validationLossGap = 1.0;
    verdict.exceeded = java.util.List.of("maxAccuracyDrop");
    verdict.message = "m".repeat(3000);
    Map<String, Object> p = progress("/ckpt/" + "a".repeat(3000));
    p.put("health", Map.of("healthy", true, "message", "h".repeat(500)));
    p.put(TerminationMessage.REFERENCE_PARITY, verdict);

    assertThat(TerminationMessage.write(file, p, "r".repeat(2000))).isEmpty();
    assertThat(Files.size(file)).isLessThanOrEqualTo(TrainerContract.TERMINATION_MESSAGE_MAX_BYTES);
    JsonNode message = JSON.readTree(file.toFile());
    JsonNode kept = message.get(TerminationMessage.REFERENCE_PARITY);
    assertThat(kept.get("withinBounds").asBoolean()).isFalse();
    assertThat(kept.get("accuracyDropPoints").asDouble()).isEqualTo(57.5);
    assertThat(kept.get("exceeded").get(0).asText()).isEqualTo("maxAccuracyDrop");
    assertThat(kept.get("candidate").get("validationLoss").asDouble()).isEqualTo(2.0);
    assertThat(kept.has("message")).isFalse();
    assertThat(message.get("step").asInt()).isEqualTo(300);

    verdict.message = "within reach";
    assertThat(TerminationMessage.write(file, progress("/ckpt/step-250"))).isEmpty();
    p = progress("/ckpt/step-250");
    p.put(TerminationMessage.REFERENCE_PARITY, verdict);
    assertThat(TerminationMessage.write(file, p)).isEmpty();
    kept = JSON.readTree(file.toFile()).get(TerminationMessage.REFERENCE_PARITY);
    assertThat(kept.get("message").asText()).as("short: kept whole").isEqualTo("within reach");
    assertThat(kept.get("reference").get("validationLoss").asDouble()).isEqualTo(1.0);
  }

  private static ParityPoint point(String run, double loss) {
    ParityPoint p = new ParityPoint();
    p.run = run;
    p.step = 40L;
    p.validationLoss = loss;
    p.validationAccuracy = 0.5;
    return p;
  }

  private static Map<String, Object> progress(String checkpointPath) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("step", 300);
    p.put("totalSteps", 300);
    p.put("loss", 0.5);
    p.put("lastCheckpoint", Map.of("step", 250, "path", checkpointPath));
    p.put("parity", Map.of("step", 300, "withinBound", true));
    return p;
  }
}
