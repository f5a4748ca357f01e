package dev.mpj.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mpj.cli.MpjCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The benchmark's plumbing, with a stand-in for bin/mpj-trainer; the real runs are made by hand.
 */
class MemoryBenchCommandTest {
  @TempDir Path dir;

  @Test
  void refusesAnUnknownModelOrAMissingTrainer() {
    Run unknown = mpj("bench", "memory", "--models", "resnet", "--trainer", "/bin/true");
    assertThat(unknown.code).isEqualTo(2);
    assertThat(unknown.err).contains("--models", "resnet");

    Run missing = mpj("bench", "memory", "--trainer", dir.resolve("no-such-trainer").toString());
    assertThat(missing.code).isEqualTo(2);
    assertThat(missing.err).contains("--trainer", "no executable mpj-trainer");

    // the first step is set-up: at least one more is needed to measure
    Run oneStep = mpj("bench", "memory", "--steps", "1", "--trainer", "/bin/true");
    assertThat(oneStep.code).isEqualTo(2);
    assertThat(oneStep.err).contains("--steps", "2 or more");
  }

  /**
   * A stand-in trainer that reports 100 MiB before step 1, a first step peaking at 110 MiB plus the
   * global batch in MiB that leaves 103 MiB (3 MiB of it code), later steps peaking at 105 MiB plus
   * the global batch, 2 MiB of it code they paged in, and records the environment it was given.
   */
  @Test
  void runsTheTrainerWithAFixedHeapAndReadsItsSummary() throws IOException {
    Path trainer = dir.resolve("mpj-trainer");
    Files.writeString(
        trainer,
        """
        #!/usr/bin/env bash
        set -e
        manifest="$3"; output="$5"
        batch=$(sed -n 's/.*globalBatchSize: \\([0-9]*\\).*/\\1/p' "$manifest")
        mkdir -p "$output"
        echo "$MPJ_TRAINER_JAVA_OPTS|${MALLOC_MMAP_THRESHOLD_:-}" >> "%s"
        printf '{"rssBeforeTrainingBytes": %%d, "peakRssFirstStepBytes": %%d, "rssAfterFirstStepBytes": %%d, "peakRssLaterStepsBytes": %%d, "fileRssAddedFirstStepBytes": %%d, "fileRssAddedLaterStepsBytes": %%d}' \\
          $((100 << 20)) $(((110 + batch) << 20)) $((103 << 20)) $(((105 + batch) << 20)) $((3 << 20)) $((2 << 20)) > "$output/summary.json"
        """
            .formatted(dir.resolve("env.txt")));
    Files.setPosixFilePermissions(trainer, PosixFilePermissions.fromString("rwx------"));

    Run run =
        mpj(
            "bench",
            "memory",
            "--models",
            "mlp",
            "--precisions",
            "fp32",
            "--allocator",
            "unmapped",
            "--trainer",
            trainer.toString(),
            "--work-dir",
            dir.resolve("work").toString());

    assertThat(run.code).as(run.err).isZero();
    // micro-batch 4096 measured 4096 MiB above the process after step 1 less the later steps'
    // code, and its first step 4106 MiB above the process before it, 3 MiB of it code; the
    // baseline (micro-batch 1) 1 MiB
    assertThat(run.out)
        .containsPattern("fp32\\s+4096\\s+.*\\s4\\.0 GiB\\s+[+-]\\d+%\\s+4\\.0 GiB\\s+3\\.0 MiB");
    assertThat(run.out)
        .contains(
            "Noise floor (mlp [8] at micro-batch 1, steps 2..3): fp32 1.0 MiB (1st step 11.0 MiB,"
                + " of it code 3.0 MiB)");
    // the baseline and three micro-batches, each with a fixed, pre-touched heap, one libtorch
    // thread and unmapped frees
    assertThat(Files.readAllLines(dir.resolve("env.txt")))
        .hasSize(4)
        .allSatisfy(
            line ->
                assertThat(line)
                    .contains(
                        "-Xms512m -Xmx512m -XX:+AlwaysPreTouch", "-Dai.djl.pytorch.num_threads=1")
                    .endsWith("|65536"));
  }

  /**
   * End to end with the real trainer, one configuration (about 10 s): runs where the trainer is
   * built, as in the full reactor build, which packages trainer-image before the operator.
   */
  @Test
  void measuresTheRealTrainerAboveItsNoiseAndWithinAFactorOfThePrediction() {
    Path launcher = Path.of("..", "bin", "mpj-trainer");
    assumeTrue(
        Files.exists(Path.of("..", "trainer-image", "target", "mpj-trainer.jar")),
        "the trainer is not built");

    Run run =
        mpj(
            "bench",
            "memory",
            "--models",
            "mlp",
            "--precisions",
            "fp32",
            "--micro-batches",
            "4096",
            "--allocator",
            "unmapped",
            "--trainer",
            launcher.toString());

    assertThat(run.code).as(run.err).isZero();
    Matcher row =
        Pattern.compile(
                "fp32\\s+4096\\s+\\S+ MiB\\s+\\S+ MiB\\s+(\\S+) MiB\\s+(\\S+) MiB\\s+\\S+%(.*)")
            .matcher(run.out);
    assertThat(row.find()).as(run.out).isTrue();
    double predicted = Double.parseDouble(row.group(1));
    double measured = Double.parseDouble(row.group(2));
    // 4096 samples of 11 KiB of activations stand well above the noise of the later steps; the
    // model counts what they hold (measured within 2% on the build machine)
    assertThat(row.group(3)).doesNotContain("below noise");
    assertThat(measured).isBetween(0.8 * predicted, 1.25 * predicted);
  }

  private static Run mpj(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private record Run(int code, String out, String err) {}
}
