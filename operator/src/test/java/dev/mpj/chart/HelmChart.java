package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Renders and lints charts/mpj-operator with the real helm binary. */
final class HelmChart {
  static final String RELEASE = "mpj";
  static final String NAMESPACE = "mpj-system";
  static final String ALL_ON_VALUES = "charts/mpj-operator/ci/all-on-values.yaml";

  private static final Map<List<String>, RenderedChart> RENDERED = new ConcurrentHashMap<>();

  private HelmChart() {}

  static Path chartDir() {
    return RepoTools.repoRoot().resolve("charts/mpj-operator");
  }

  /**
   * helm template with these extra arguments (--set, -f), parsed; renders each set of values once.
   */
  static RenderedChart render(String... valueArgs) {
    return renderRelease(RELEASE, valueArgs);
  }

  /** {@link #render} as the release {@code release}. */
  static RenderedChart renderRelease(String release, String... valueArgs) {
    Path helm = RepoTools.require("helm");
    List<String> key = new ArrayList<>(List.of(valueArgs));
    key.add(0, release);
    return RENDERED.computeIfAbsent(
        key,
        k -> {
          List<String> args = k.subList(1, k.size());
          RepoTools.Run run = RepoTools.run(templateCommand(helm, release, args), null);
          assertThat(run.exitCode()).as("helm template %s failed: %s", args, run.stderr()).isZero();
          return RenderedChart.parse(run.stdout());
        });
  }

  /** helm template expected to fail; returns what helm said. */
  static String renderFailure(String... valueArgs) {
    Path helm = RepoTools.require("helm");
    RepoTools.Run run = RepoTools.run(templateCommand(helm, RELEASE, List.of(valueArgs)), null);
    assertThat(run.exitCode()).as("helm template %s should fail", List.of(valueArgs)).isNotZero();
    return run.stderr();
  }

  static RepoTools.Run lint(String... valueArgs) {
    Path helm = RepoTools.require("helm");
    List<String> command = RepoTools.command(helm, "lint", "--strict", chartDir().toString());
    command.addAll(List.of(valueArgs));
    return RepoTools.run(command, null);
  }

  private static List<String> templateCommand(Path helm, String release, List<String> valueArgs) {
    List<String> command =
        new ArrayList<>(
            RepoTools.command(
                helm, "template", release, chartDir().toString(), "--namespace", NAMESPACE));
    command.addAll(valueArgs);
    return command;
  }
}
