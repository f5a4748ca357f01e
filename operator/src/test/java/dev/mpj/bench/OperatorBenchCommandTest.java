package dev.mpj.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.cli.MpjCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code mpj bench operator} at a small scale: every job runs, and at steady state the operator
 * reads each job's own pods, never every pod of the cluster. Figures are printed, not asserted.
 */
class OperatorBenchCommandTest {
  @Test
  void fewJobsRunAndSteadyStateNeverListsEveryPod() {
    StringWriter out = new StringWriter();
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(out));
    int code =
        cli.execute(
            "bench",
            "operator",
            "--jobs",
            "3",
            "--replicas",
            "2",
            "--steady-seconds",
            "4",
            "--progress-interval",
            "1");
    String said = out.toString();
    System.out.println(said);
    assertThat(code).as(said).isZero();
    assertThat(said).contains("first apply to all Running").contains("(3 jobs Running)");
    assertThat(said).contains("lists of every pod at steady state: 0");
    // Each running job is looked at: its own pods are listed at steady state.
    Matcher perJob = Pattern.compile("([0-9.]+) API requests per job per minute").matcher(said);
    assertThat(perJob.find()).as(said).isTrue();
    assertThat(Double.parseDouble(perJob.group(1))).isPositive();
    assertThat(said).containsPattern("list pods\\s+[0-9.]+");
  }
}
