package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/operations/argocd-health.lua, run by the real Lua interpreter on MixedPrecisionJobs built
 * from the API types, as Argo CD runs it: the object in a global table {@code obj}, the result
 * returned.
 */
class ArgoHealthCheckTest {
  private static final Path SCRIPT =
      RepoTools.repoRoot().resolve("docs/operations/argocd-health.lua");

  /** What the script returned: Argo CD's health status and message. */
  record Health(String status, String message) {}

  @Test
  void finishedOrFullyRunningJobsAreHealthy() {
    assertThat(
            health(
                job(
                    1,
                    1,
                    JobPhase.Succeeded,
                    condition("Ready", "True", "Succeeded", "Training finished at step 500"))))
        .isEqualTo(new Health("Healthy", "Training finished at step 500"));
    assertThat(
            health(
                job(
                    1,
                    1,
                    JobPhase.Running,
                    condition("Ready", "True", "AllReplicasRunning", "2/2 replicas running"))))
        .isEqualTo(new Health("Healthy", "2/2 replicas running"));
  }

  @Test
  void startingRestartingOrUnobservedJobsAreProgressing() {
    MixedPrecisionJob fresh = job(1, null, null);
    fresh.setStatus(null);
    assertThat(health(fresh).status()).isEqualTo("Progressing");

    assertThat(
            health(
                job(
                    1,
                    1,
                    JobPhase.Pending,
                    condition("Ready", "False", "Sizing", null),
                    condition("Reconciling", "True", "Sizing", "Sizing the job"))))
        .isEqualTo(new Health("Progressing", "Sizing the job"));
    assertThat(
            health(
                job(
                    1,
                    1,
                    JobPhase.Restarting,
                    condition("Reconciling", "True", "Restarting", "Restarting from step 300"))))
        .isEqualTo(new Health("Progressing", "Restarting from step 300"));
    assertThat(
            health(
                    job(
                        1,
                        1,
                        JobPhase.Running,
                        condition("Ready", "False", "ReplicasStarting", null)))
                .status())
        .isEqualTo("Progressing");
    // A Ready status computed for an older spec says nothing about the new one.
    assertThat(
            health(
                job(
                    2,
                    1,
                    JobPhase.Running,
                    condition("Ready", "True", "AllReplicasRunning", null))))
        .isEqualTo(new Health("Progressing", "Waiting for the operator to observe generation 2"));
  }

  @Test
  void failedOrStalledJobsAreDegradedAndSayWhy() {
    assertThat(
            health(
                job(
                    1,
                    1,
                    JobPhase.Failed,
                    condition("Ready", "False", "BackoffLimitExceeded", null),
                    condition(
                        "Stalled",
                        "True",
                        "BackoffLimitExceeded",
                        "4 restarts exceed backoffLimit 3"))))
        .isEqualTo(new Health("Degraded", "4 restarts exceed backoffLimit 3"));
    MixedPrecisionJob failedWithoutConditions = job(1, 1, JobPhase.Failed);
    failedWithoutConditions.getStatus().message =
        "DeadlineExceeded: ran past activeDeadlineSeconds 3600";
    assertThat(health(failedWithoutConditions))
        .isEqualTo(new Health("Degraded", "DeadlineExceeded: ran past activeDeadlineSeconds 3600"));
    // An invalid spec never leaves Pending, but it is stuck, not progressing.
    assertThat(
            health(
                job(
                    3,
                    3,
                    JobPhase.Pending,
                    condition(
                        "Stalled",
                        "True",
                        "InvalidSpec",
                        "spec.replicas.min: must be at most spec.replicas.max"))))
        .isEqualTo(new Health("Degraded", "spec.replicas.min: must be at most spec.replicas.max"));
  }

  @Test
  void suspendedJobsAreSuspended() {
    assertThat(
            health(
                job(
                    2,
                    2,
                    JobPhase.Suspended,
                    condition("Suspended", "True", "Suspended", "Suspended at step 120"))))
        .isEqualTo(new Health("Suspended", "Suspended at step 120"));
    assertThat(health(job(2, 2, JobPhase.Suspended)).status()).isEqualTo("Suspended");
  }

  @Test
  void gitopsDocsArgocdCmBlockHoldsTheScriptAsItIs() throws IOException {
    String doc = Files.readString(RepoTools.repoRoot().resolve("docs/operations/gitops.md"));
    Matcher block =
        Pattern.compile(
                "(?s)```yaml\n(apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm.*?)```")
            .matcher(doc);
    assertThat(block.find()).as("docs/operations/gitops.md shows the argocd-cm ConfigMap").isTrue();
    JsonNode configMap = new YAMLMapper().readTree(block.group(1));
    assertThat(
            configMap.at("/data/resource.customizations.health.mpj.dev_MixedPrecisionJob").asText())
        .isEqualTo(Files.readString(SCRIPT));
  }

  private static Health health(MixedPrecisionJob job) {
    Path lua = RepoTools.require("lua5.4");
    JsonNode obj =
        new ObjectMapper().valueToTree(new KubernetesSerialization().convertValue(job, Map.class));
    String harness =
        "obj = "
            + luaValue(obj)
            + "\n"
            + "local hs = dofile("
            + luaString(SCRIPT.toString())
            + ")\n"
            + "io.write(tostring(hs.status), '\\n', tostring(hs.message))\n";
    RepoTools.Run run = RepoTools.run(RepoTools.command(lua, "-"), harness);
    assertThat(run.exitCode()).as("lua5.4 failed: %s\n%s", run.stderr(), harness).isZero();
    String[] lines = run.stdout().split("\n", 2);
    return new Health(lines[0], lines.length > 1 ? lines[1] : "");
  }

  private static MixedPrecisionJob job(
      long generation, Integer observedGeneration, JobPhase phase, Condition... conditions) {
    MixedPrecisionJob job = new MixedPrecisionJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withName("digits-mlp")
            .withNamespace("ml")
            .withGeneration(generation)
            .build());
    MixedPrecisionJobStatus status = new MixedPrecisionJobStatus();
    status.phase = phase;
    status.observedGeneration = observedGeneration == null ? null : observedGeneration.longValue();
    status.conditions = List.of(conditions);
    job.setStatus(status);
    return job;
  }

  private static Condition condition(String type, String status, String reason, String message) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastTransitionTime("2026-11-28T12:00:00Z")
        .build();
  }

  /** JSON as a Lua table constructor, the way Argo CD hands the object to the script. */
  static String luaValue(JsonNode node) {
    if (node.isObject()) {
      StringBuilder table = new StringBuilder("{");
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        if (!field.getValue().isNull()) {
          table
              .append('[')
              .append(luaString(field.getKey()))
              .append("]=")
              .append(luaValue(field.getValue()))
              .append(',');
        }
      }
      return table.append('}').toString();
    }
    if (node.isArray()) {
      StringBuilder table = new StringBuilder("{");
      node.forEach(element -> table.append(luaValue(element)).append(','));
      return table.append('}').toString();
    }
    if (node.isTextual()) {
      return luaString(node.asText());
    }
    if (node.isNumber() || node.isBoolean()) {
      return node.asText();
    }
    return "nil";
  }

  static String luaString(String text) {
    StringBuilder quoted = new StringBuilder("\"");
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c == '"' || c == '\\') {
        quoted.append('\\').append((char) c);
      } else if (c < 32 || c == 127) {
        quoted.append(String.format("\\%03d", c));
      } else if (c < 128) {
        quoted.append((char) c);
      } else {
        quoted.append(String.format("\\%03d", c));
      }
    }
    return quoted.append('"').toString();
  }
}
