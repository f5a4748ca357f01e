package dev.mpj.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.metrics.PrometheusExposition.ParseException;
import dev.mpj.metrics.PrometheusExposition.Sample;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusExpositionTest {

  @Test
  void parsesFamiliesWithHelpTypeLabelsAndTimestamps() {
    var text =
        """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # A comment that is neither HELP nor TYPE.
        # TYPE temperature gauge
        temperature -3.5e1
        metric_without_type_or_labels 12.47
        """;
    var exposition = PrometheusExposition.parse(text);

    assertThat(exposition.familyNames())
        .containsExactly("http_requests_total", "temperature", "metric_without_type_or_labels");
    var requests = exposition.family("http_requests_total").orElseThrow();
    assertThat(requests.type()).isEqualTo("counter");
    assertThat(requests.help()).isEqualTo("The total number of HTTP requests.");
    assertThat(requests.samples())
        .containsExactly(
            new Sample(
                "http_requests_total",
                Map.of("method", "post", "code", "200"),
                1027,
                1395066363000L),
            new Sample(
                "http_requests_total", Map.of("method", "post", "code", "400"), 3, 1395066363000L));
    assertThat(exposition.value("http_requests_total", Map.of("code", "400"))).contains(3.0);
    assertThat(exposition.value("temperature", Map.of())).contains(-35.0);
    assertThat(exposition.family("metric_without_type_or_labels").orElseThrow().type())
        .isEqualTo("untyped");
    assertThat(exposition.samples("temperature").get(0).timestampMillis()).isNull();
  }

  @Test
  void unescapesLabelValuesAndHelpAndReadsSpecialValues() {
    var text =
        """
        # HELP msdos_file_access_time_seconds Time of access \\\\ with a\\nsecond line.
        # TYPE msdos_file_access_time_seconds gauge
        msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",} 1.458255915e9
        # TYPE special gauge
        special{v="nan"} NaN
        special{v="up"} +Inf
        special{v="down"} -Inf
        """;
    var exposition = PrometheusExposition.parse(text);
    Sample file = exposition.samples("msdos_file_access_time_seconds").get(0);
    assertThat(file.label("path")).isEqualTo("C:\\DIR\\FILE.TXT");
    assertThat(file.label("error")).isEqualTo("Cannot find file:\n\"FILE.TXT\"");
    assertThat(file.value()).isEqualTo(1.458255915e9);
    assertThat(exposition.family("msdos_file_access_time_seconds").orElseThrow().help())
        .isEqualTo("Time of access \\ with a\nsecond line.");
    assertThat(exposition.value("special", Map.of("v", "nan")).orElseThrow()).isNaN();
    assertThat(exposition.value("special", Map.of("v", "up"))).contains(Double.POSITIVE_INFINITY);
    assertThat(exposition.value("special", Map.of("v", "down"))).contains(Double.NEGATIVE_INFINITY);
  }

  @Test
  void groupsHistogramAndSummarySamplesUnderTheirFamily() {
    var text =
        """
        # TYPE step_seconds histogram
        step_seconds_bucket{le="0.1"} 2
        step_seconds_bucket{le="1.0"} 5
        step_seconds_bucket{le="+Inf"} 6
        step_seconds_sum 3.2
        step_seconds_count 6
        # TYPE rpc_seconds summary
        rpc_seconds{quantile="0.5"} 0.01
        rpc_seconds_sum 1.5
        rpc_seconds_count 100
        """;
    var exposition = PrometheusExposition.parse(text);
    assertThat(exposition.familyNames()).containsExactly("step_seconds", "rpc_seconds");
    assertThat(exposition.family("step_seconds").orElseThrow().samples()).hasSize(5);
    assertThat(exposition.value("step_seconds_bucket", Map.of("le", "1.0"))).contains(5.0);
    assertThat(exposition.value("rpc_seconds_count", Map.of())).contains(100.0);
  }

  @Test
  void refusesMalformedLinesNamingTheLine() {
    assertRefused("1metric 1\n", "line 1", "metric name");
    assertRefused("m{a=\"b} 1\n", "unterminated value of label a");
    assertRefused("m{a=\"\\t\"} 1\n", "bad escape \\t");
    assertRefused("m{a=\"1\",a=\"2\"} 1\n", "label a appears twice");
    assertRefused("m{a=\"1\" b=\"2\"} 1\n", "expected ',' or '}'");
    assertRefused("m{1a=\"1\"} 1\n", "label name");
    assertRefused("ok 1\nm\n", "line 2", "blank before the value");
    assertRefused("m one\n", "not a number");
    assertRefused("m 1 yesterday\n", "timestamp");
    assertRefused("m 1 2 3\n", "unexpected text");
    assertRefused("m 1", "line feed");
  }

  @Test
  void refusesWhatWouldMakeTheScrapeAmbiguous() {
    assertRefused("# TYPE m gauge\n# TYPE m counter\nm 1\n", "second TYPE");
    assertRefused("m 1\n# TYPE m gauge\n", "after its samples");
    assertRefused("# TYPE m meter\n", "unknown type");
    assertRefused("# HELP m a\n# HELP m b\n", "second HELP");
    assertRefused("a 1\nb 1\na{x=\"1\"} 2\n", "line 3", "not one group");
    assertRefused("m{a=\"1\"} 1\nm{a=\"1\"} 2\n", "appears twice");
    assertRefused("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", "+Inf");
    assertRefused(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n", "decreasing");
    assertRefused("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n", "_count differs");
    assertRefused("# TYPE h histogram\nh_bucket 1\n", "no le label");
    assertRefused("# TYPE h histogram\nh 1\n", "without _bucket");
  }

  private static void assertRefused(String text, String... fragments) {
    assertThatThrownBy(() -> PrometheusExposition.parse(text))
        .as("%s", text)
        .isInstanceOf(ParseException.class)
        .satisfies(
            e -> {
              for (String fragment : fragments) {
                assertThat(e.getMessage()).contains(fragment);
              }
            });
  }
}
