package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mpj.metrics.MetricsDoc;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The chart's alerts (files/alerts.yaml): promtool's unit tests of every rule pass, every metric
 * they name is documented, and the PrometheusRule the chart renders carries exactly those rules.
 */
class AlertRulesTest {
  private static final Path RULES = Path.of("charts/mpj-operator/files/alerts.yaml");
  private static final Path RULE_TESTS = Path.of("charts/mpj-operator/tests/alerts-test.yaml");

  /** Prometheus's own series, not in docs/reference/metrics.md. */
  private static final Set<String> PROMETHEUS_SERIES = Set.of("up");

  @Test
  void promtoolUnitTestsOfEveryAlertPass() {
    Path promtool = RepoTools.require("promtool");
    RepoTools.Run check =
        RepoTools.run(RepoTools.command(promtool, "check", "rules", RULES.toString()), null);
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
    RepoTools.Run test =
        RepoTools.run(RepoTools.command(promtool, "test", "rules", RULE_TESTS.toString()), null);
    assertThat(test.exitCode()).as(test.stdout() + test.stderr()).isZero();
    assertThat(test.stdout() + test.stderr()).contains("SUCCESS");
  }

  @Test
  void theAlertsTheIssueAsksForExistAndNameOnlyDocumentedMetrics() throws IOException {
    MetricsDoc doc = MetricsDoc.read(RepoTools.repoRoot());
    List<String> alerts = new ArrayList<>();
    for (JsonNode group : rules().path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        alerts.add(rule.path("alert").asText());
        String expr = rule.path("expr").asText();
        for (String name : PromQlMetricNames.of(expr)) {
          if (!PROMETHEUS_SERIES.contains(name)) {
            assertThat(doc.find(name))
                .as("%s (in alert %s) is not in %s", name, rule.path("alert"), MetricsDoc.FILE)
                .isPresent();
          }
        }
        assertThat(rule.path("annotations").path("summary").asText()).isNotBlank();
        assertThat(rule.path("labels").path("severity").asText()).isIn("warning", "critical");
      }
    }
    assertThat(alerts)
        .containsExactlyInAnyOrder(
            "MpjJobFailed",
            "MpjJobRestartsRising",
            "MpjLossScaleAtMinimum",
            "MpjSkippedStepRatioHigh",
            "MpjTrainingUnhealthy",
            "MpjParityExceeded",
            "MpjOperatorDown",
            "MpjOperatorNotReconciling");
    String tests = Files.readString(RepoTools.repoRoot().resolve(RULE_TESTS));
    for (String alert : alerts) {
      assertThat(tests).as("a promtool test for %s", alert).contains("alertname: " + alert);
    }
  }

  @Test
  void theChartRendersThePrometheusRuleOnlyWhenEnabledWithTheFilesRules() throws IOException {
    assertThat(HelmChart.render().generic("PrometheusRule")).isEmpty();
    List<GenericKubernetesResource> rendered =
        HelmChart.render("-f", HelmChart.ALL_ON_VALUES).generic("PrometheusRule");
    assertThat(rendered).hasSize(1);
    GenericKubernetesResource rule = rendered.get(0);
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "prometheus");
    JsonNode spec = new ObjectMapper().valueToTree(rule.getAdditionalProperties().get("spec"));
    assertThat(spec.path("groups")).isEqualTo(rules().path("groups"));
  }

  private static JsonNode rules() throws IOException {
    return new YAMLMapper().readTree(RepoTools.repoRoot().resolve(RULES).toFile());
  }
}
