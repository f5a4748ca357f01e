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
 * The short form of {@code mpj chaos} that CI runs: a tiny fp32 job (20 steps, a checkpoint every
 * 5), one uninterrupted run shared by two faulted runs drawn from seed 3: rank 1 killed while the
 * group forms, and rank 0 killed in the middle of writing checkpoint 10. Each must recover with one
 * restart, one pod per rank and attempt, resume from the start or the checkpoint before the one it
 * lost (none of the checkpoints published when the fault struck), and end with final weights
 * byte-identical to the uninterrupted run. Two kinds whose outcome is exact (the resume step is
 * fixed), in three mpj local runs, to stay cheap; the other kinds and the 20-run form are in
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
            "2",
            "--seed",
            "3",
            "--precisions",
            "fp32",
            "--faults",
            "kill-during-write,kill-at-rendezvous",
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
        .contains("uninterrupted fp32       Succeeded")
        .contains(
            "run  1/2 fp32       SIGKILL rank 1 in the rendezvous: Succeeded, restarts 1,"
                + " resumed from 0")
        .contains(
            "run  2/2 fp32       SIGKILL rank 0 writing checkpoint  10: Succeeded, restarts 1,"
                + " resumed from 5")
        .doesNotContain("DIFFER")
        .contains("summary: 2 runs, 2 faults injected (2 needing a restart), 2 recovered");
  }
}
