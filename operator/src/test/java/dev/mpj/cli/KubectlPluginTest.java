package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * bin/kubectl-mpj hands plan and status to the mpj launcher beside it with kubectl's flags as they
 * are, and says clearly when this MPJ has no report command. A stand-in mpj records what it gets.
 */
class KubectlPluginTest {

  @TempDir Path dir;

  private Result plugin(String fakeMpj, String... args) throws IOException, InterruptedException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.copy(
        FleetPlanCommandTest.ROOT.resolve("bin/kubectl-mpj"),
        bin.resolve("kubectl-mpj"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(bin.resolve("mpj"), "#!/usr/bin/env bash\n" + fakeMpj + "\n");
    for (String f : List.of("kubectl-mpj", "mpj")) {
      Files.setPosixFilePermissions(bin.resolve(f), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    List<String> command = new ArrayList<>(List.of("bash", bin.resolve("kubectl-mpj").toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out, err);
  }

  private static final String ECHO = "echo \"mpj $*\"";

  @Test
  void planAndStatusPassKubectlsFlagsThrough() throws Exception {
    Result plan = plugin(ECHO, "plan", "--cluster", "--context", "prod", "-n", "ml", "-o", "json");
    assertThat(plan.code).isZero();
    assertThat(plan.out).isEqualTo("mpj plan --cluster --context prod -n ml -o json\n");
    Result status = plugin(ECHO, "status", "gpt2-small", "-n", "language", "-o", "yaml");
    assertThat(status.out).isEqualTo("mpj status gpt2-small -n language -o yaml\n");
  }

  @Test
  void reportSaysClearlyWhenThereIsNone() throws Exception {
    String noReport =
        "[[ $1 == --help ]] && printf 'Commands:\\n  plan      Print the plan\\n  status    Print"
            + " a status\\n  reporting x\\n' && exit 0; ";
    Result none = plugin(noReport + ECHO, "report", "gpt2-small");
    assertThat(none.code).isEqualTo(1);
    assertThat(none.err)
        .contains("this version of MPJ has no report command yet")
        .contains("kubectl mpj status");
    Result some =
        plugin(
            "[[ $1 == --help ]] && printf 'Commands:\\n  report    The job report\\n' && exit 0; "
                + ECHO,
            "report",
            "gpt2-small",
            "-n",
            "language");
    assertThat(some.code).isZero();
    assertThat(some.out).isEqualTo("mpj report gpt2-small -n language\n");
  }

  @Test
  void reportFollowsWhatTheRealMpjHelpLists() throws Exception {
    CommandLine mpj = MpjCommand.commandLine();
    Path help =
        Files.writeString(dir.resolve("help.txt"), mpj.getUsageMessage(CommandLine.Help.Ansi.OFF));
    Result report =
        plugin("[[ $1 == --help ]] && cat '" + help + "' && exit 0; " + ECHO, "report", "x");
    if (mpj.getSubcommands().containsKey("report")) {
      assertThat(report.out).isEqualTo("mpj report x\n");
    } else {
      assertThat(report.code).isEqualTo(1);
      assertThat(report.err).contains("no report command yet");
    }
  }

  @Test
  void anUnknownCommandIsAUsageError() throws Exception {
    Result unknown = plugin(ECHO, "delete", "x");
    assertThat(unknown.code).isEqualTo(2);
    assertThat(unknown.err)
        .contains("unknown command \"delete\"")
        .contains("kubectl mpj status NAME");
    assertThat(plugin(ECHO).out).contains("kubectl mpj plan");
  }

  private record Result(int code, String out, String err) {}
}
