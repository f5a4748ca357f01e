package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class OperatorCommandTest {

  private static OperatorSettings settings(String... args) {
    OperatorCommand command = new OperatorCommand();
    new CommandLine(command).parseArgs(args);
    return command.settings();
  }

  @Test
  void flagsBecomeSettings() {
    OperatorSettings s = settings(
        "-n", "team-a,team-b", "--trainer-image", "reg/mpj-trainer:1", "--default-gpu-memory", "80Gi",
        "--trainer-metrics-port", "9500", "--leader-election", "--lease-namespace", "mpj-system");
    assertThat(s.namespaces()).containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(s.defaultImage()).isEqualTo("reg/mpj-trainer:1");
    assertThat(s.sizing().defaultGpuMemoryBytes()).isEqualTo(80L << 30);
    assertThat(s.trainerMetricsPort()).isEqualTo(9500);
    assertThat(s.leaderElection()).isEqualTo(new OperatorSettings.LeaderElection("mpj-operator", "mpj-system"));
  }

  @Test
  void defaultsWatchAllNamespacesWithoutLeaderElection() {
    OperatorSettings s = settings();
    assertThat(s.namespaces()).isEmpty();
    assertThat(s.leaderElection()).isNull();
    assertThat(s.defaultImage()).isEqualTo(OperatorSettings.DEFAULT_IMAGE);
  }

  @Test
  void aBadFlagIsRefusedWithExitCodeTwoNamingIt() {
    StringWriter err = new StringWriter();
    int code = MpjCommand.commandLine().setErr(new PrintWriter(err))
        .execute("operator", "--default-gpu-memory", "lots");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--default-gpu-memory");
  }
}
