package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.metrics.MetricsDoc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The chart's Grafana dashboard parses, and every query in it names only metrics of
 * docs/reference/metrics.md.
 */
class DashboardQueriesTest {
  private static final Path DASHBOARD = Path.of("charts/mpj-operator/dashboards/mpj.json");

  /** Grafana's variable query: label_values(selector, label). */
  private static final Pattern LABEL_VALUES =
      Pattern.compile("\\s*label_values\\((.*),\\s*([a-zA-Z_]\\w*)\\s*\\)\\s*");

  @Test
  void everyQueryOfTheDashboardNamesADocumentedMetric() throws IOException {
    JsonNode dashboard =
        new ObjectMapper().readTree(RepoTools.repoRoot().resolve(DASHBOARD).toFile());
    MetricsDoc doc = MetricsDoc.read(RepoTools.repoRoot());
    assertThat(dashboard.path("uid").asText()).isNotBlank();

    List<JsonNode> panels = new ArrayList<>();
    dashboard.path("panels").forEach(panels::add);
    List<JsonNode> graphs =
        panels.stream().filter(p -> !p.path("type").asText().equals("row")).toList();
    assertThat(graphs).as("panels").hasSizeGreaterThanOrEqualTo(6);
    List<String> queries = new ArrayList<>();
    for (JsonNode panel : graphs) {
      List<String> exprs = new ArrayList<>();
      panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
      assertThat(exprs)
          .as("queries of panel '%s'", panel.path("title").asText())
          .isNotEmpty()
          .doesNotContain("");
      queries.addAll(exprs);
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        JsonNode query = variable.path("query");
        String text = query.isTextual() ? query.asText() : query.path("query").asText();
        Matcher m = LABEL_VALUES.matcher(text);
        assertThat(m.matches())
            .as("variable %s: %s", variable.path("name").asText(), text)
            .isTrue();
        queries.add(m.group(1));
      }
    }

    Set<String> seen = new TreeSet<>();
    for (String query : queries) {
      Set<String> names = PromQlMetricNames.of(query);
      assertThat(names).as("metrics in %s", query).isNotEmpty();
      for (String name : names) {
        assertThat(doc.find(name))
            .as("%s (in %s) is not in %s", name, query, MetricsDoc.FILE)
            .isPresent();
        seen.add(doc.find(name).orElseThrow().name());
      }
    }
    // What the issue asks the dashboard to show.
    assertThat(seen)
        .contains(
            "mpj_jobs",
            "mpj_trainer_samples_per_second",
            "mpj_trainer_loss",
            "mpj_trainer_loss_scale",
            "mpj_trainer_overflow_steps_total",
            "mpj_trainer_checkpoint_write_duration_seconds",
            "mpj_job_sizing_bytes_per_replica");
  }

  @Test
  void theTokenizerFindsMetricsAndSkipsFunctionsKeywordsLabelsAndVariables() {
    assertThat(PromQlMetricNames.of("sum by (phase) (mpj_jobs)")).containsExactly("mpj_jobs");
    assertThat(
            PromQlMetricNames.of(
                "histogram_quantile(0.95, sum by (le, job_name) (rate(step_seconds_bucket{namespace=~\"$namespace\","
                    + " replica=\"0\"}[$__rate_interval])))"))
        .containsExactly("step_seconds_bucket");
    assertThat(
            PromQlMetricNames.of(
                "a{precision=\"fp32\"} - ignoring(precision) b{precision=\"fp16-mixed\"} > bool 1e3 and on (job) c offset 5m"))
        .containsExactly("a", "b", "c");
    assertThat(
            PromQlMetricNames.of(
                "sum without (replica) (rate(x_total[5m])) / on(job_name) group_left(ns) y"))
        .containsExactly("x_total", "y");
    assertThat(
            PromQlMetricNames.of(
                "max(z{a=\"}{\", b='x'}) * ${factor} + count_values(\"v\", w) + Inf"))
        .containsExactly("z", "w");
    assertThat(PromQlMetricNames.of("topk by (job) (3, q) or vector(0)")).containsExactly("q");
    assertThatThrownBy(() -> PromQlMetricNames.of("m{a=\"b}"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
