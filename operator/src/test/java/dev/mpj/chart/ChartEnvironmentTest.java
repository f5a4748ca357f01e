package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.cli.MpjCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every MPJ_* variable the chart gives the operator is one that {@code mpj operator} reads. */
class ChartEnvironmentTest {
  private static final Pattern ENV_ITEM =
      Pattern.compile("(?m)^\\s*-\\s*name:\\s*(MPJ_[A-Z0-9_]+)\\s*$");
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z0-9_]+)");

  @Test
  void everyMpjVariableOfTheDeploymentIsTheEnvironmentDefaultOfAnOperatorFlag() throws IOException {
    String template = Files.readString(HelmChart.chartDir().resolve("templates/deployment.yaml"));
    Set<String> set = new LinkedHashSet<>();
    Matcher item = ENV_ITEM.matcher(template);
    while (item.find()) {
      set.add(item.group(1));
    }
    assertThat(set)
        .as("MPJ_* variables in templates/deployment.yaml")
        .contains("MPJ_METRICS_PORT", "MPJ_HEALTH_PORT");

    assertThat(set).isSubsetOf(operatorEnvironment());
  }

  /**
   * The variables named in the operator's option defaults, read from picocli's model,
   * uninterpolated.
   */
  static Set<String> operatorEnvironment() {
    CommandLine operator = MpjCommand.commandLine().getSubcommands().get("operator");
    var spec = operator.getCommandSpec();
    spec.interpolateVariables(false);
    Set<String> read = new LinkedHashSet<>();
    for (CommandLine.Model.OptionSpec option : spec.options()) {
      if (option.defaultValue() != null) {
        Matcher m = ENV_DEFAULT.matcher(option.defaultValue());
        while (m.find()) {
          read.add(m.group(1));
        }
      }
    }
    assertThat(read)
        .as("env defaults of mpj operator's options")
        .contains("MPJ_WATCH_NAMESPACES", "MPJ_METRICS_PORT");
    return read;
  }
}
