package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.cli.MpjCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The short form of {@code mpj chaos} that CI runs: one uninterrupted fp16-mixed run and one run
 * with a replica killed (SIGKILL) at a step drawn from seed 18; the killed run must recover with
 * one restart, one pod per rank and attempt, at most one checkpoint interval of steps lost, and
 * final weights byte-identical to the uninterrupted run. The 20-run form is in
 * docs/operations/reliability.md.
 */
class ChaosShortFormTest {
  @Test
  void aKilledReplicaRecoversToTheSameWeights(@TempDir Path dir) {
    Path launcher = LocalProcess.trainerLauncher();
    StringWriter out = new StringWriter();
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(out));
    int code =
        cli.execute(
            "chaos",
            "--runs",
            "1",
            "--seed",
            "18",
            "--precisions",
            "fp32",
            "--faults",
            "corrupt-newest,kill-during-write",
            "--steps",
            "20",
            "--checkpoint-interval",
            "5",
            "--work-dir",
            dir.toString(),
            "--trainer",
            launcher.toString());
    String said = out.toString();
    System.out.println(said);
    assertThat(code).as(said).isZero();
    assertThat(said)
        .contains("uninterrupted fp16-mixed Succeeded")
        .containsPattern(
            "run  1/1 fp16-mixed SIGKILL rank [01] at step +\\d+: Succeeded, restarts 1")
        .contains("weights identical")
        .contains("summary: 1 runs, 1 faults injected, 1 recovered");
  }
}
