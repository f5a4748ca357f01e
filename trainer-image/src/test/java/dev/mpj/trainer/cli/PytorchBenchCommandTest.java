package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.mpj.trainer.bench.SideBySide;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code mpj-trainer bench pytorch} without PyTorch says so and measures nothing; an unknown model
 * is refused naming the option; the trainer's side of a run reports its memory and speed, and its
 * side of the BLAS probe the GFLOP/s of one product.
 */
class PytorchBenchCommandTest {
  private String stdout;
  private String stderr;

  private int bench(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream capturedOut = new ByteArrayOutputStream();
    ByteArrayOutputStream capturedErr = new ByteArrayOutputStream();
    System.setOut(new PrintStream(capturedOut, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(capturedErr, true, StandardCharsets.UTF_8));
    try {
      String[] all = new String[args.length + 2];
      all[0] = "bench";
      all[1] = "pytorch";
      System.arraycopy(args, 0, all, 2, args.length);
      return TrainerCommand.commandLine().execute(all);
    } finally {
      System.setOut(out);
      System.setErr(err);
      stdout = capturedOut.toString(StandardCharsets.UTF_8);
      stderr = capturedErr.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void withoutPytorchItSaysSoAndMeasuresNothing() {
    assertThat(bench("--python", "/nonexistent/python3")).isZero();
    assertThat(stdout)
        .contains("PyTorch is not installed for /nonexistent/python3; nothing measured")
        .doesNotContain("MiB");
  }

  @Test
  void noMemoryRunsIsRefusedNamingTheOption() {
    assertThat(bench("--memory-repeats", "0", "--python", "/nonexistent/python3")).isEqualTo(2);
    assertThat(stderr).contains("--memory-repeats");
  }

  @Test
  void noSpeedRunsIsRefusedNamingTheOption() {
    assertThat(bench("--speed-repeats", "0", "--python", "/nonexistent/python3")).isEqualTo(2);
    assertThat(stderr).contains("--speed-repeats");
    assertThat(bench("--speed-steps", "0", "--python", "/nonexistent/python3")).isEqualTo(2);
    assertThat(stderr).contains("--speed-steps");
  }

  @Test
  void theSpeedRatioIsTheMedianOfPairsRunBackToBack() {
    // The machine runs at half speed for a while: the third pair's PyTorch run falls into it,
    // the trainer's after it. Four pairs say 1.1x, one 2.2x; the two sides' own medians 2.2x.
    SideBySide.Run[] torch = {run(100), run(100), run(50), run(50), run(50)};
    SideBySide.Run[] ours = {run(110), run(110), run(110), run(55), run(55)};
    assertThat(SideBySide.medianSpeedRatio(ours, torch)).isCloseTo(1.1, within(1e-9));
    assertThat(SideBySide.medianOfSpeed(ours).samplesPerSecond()).isEqualTo(110);
    assertThat(SideBySide.medianOfSpeed(torch).samplesPerSecond()).isEqualTo(50);
    assertThatThrownBy(() -> SideBySide.medianSpeedRatio(ours, new SideBySide.Run[] {run(1)}))
        .hasMessageContaining("pairs");
  }

  private static SideBySide.Run run(double samplesPerSecond) {
    return new SideBySide.Run(0, 0, samplesPerSecond, 0);
  }

  @Test
  void anUnknownModelIsRefusedNamingTheOption() {
    assertThat(bench("--models", "mlp,cnn", "--python", "/nonexistent/python3")).isEqualTo(2);
    assertThat(stderr).contains("--models").contains("cnn");
  }

  @Test
  void aRunsStepMemoryLeavesOutTheCodeItPagedIn() {
    // base 100, peak 250, of which 30 code paged in after the base: 120 of the step's own
    assertThat(SideBySide.Run.parse("RESULT 100 250 1.5 30").stepBytes()).isEqualTo(120);
    // a side that does not report its code (an older script) counts it all
    assertThat(SideBySide.Run.parse("RESULT 100 250 1.5").stepBytes()).isEqualTo(150);
    // the median of three runs by their step memory
    SideBySide.Run small = new SideBySide.Run(100, 150, 1, 0);
    SideBySide.Run middle = new SideBySide.Run(100, 170, 1, 10);
    SideBySide.Run large = new SideBySide.Run(100, 300, 1, 0);
    assertThat(SideBySide.medianOfSteps(large, small, middle)).isEqualTo(middle);
  }

  @Test
  void theBlasProbeTimesOneProductThroughDjl() {
    assertThat(bench("--gemm-child", "64,32,16")).isZero();
    String line = stdout.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow();
    // GFLOP/s in the third field, where the training runs put samples per second
    assertThat(line).startsWith("RESULT 0 0 ");
    assertThat(SideBySide.Run.parse(line).samplesPerSecond()).isPositive();
    // and checks the product it timed against double precision: a few FP32 epsilons
    String check = stdout.lines().filter(l -> l.startsWith("CHECK ")).findFirst().orElseThrow();
    assertThat(Double.parseDouble(check.substring("CHECK ".length()))).isBetween(0.0, 1e-5);
  }

  @Test
  void theTrainersSideReportsItsMemoryAndSpeed() {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      SideBySide.trainerChild("transformer", 2, 1, 1);
    } finally {
      System.setOut(out);
    }
    String line =
        captured
            .toString(StandardCharsets.UTF_8)
            .lines()
            .filter(l -> l.startsWith("RESULT "))
            .findFirst()
            .orElseThrow();
    SideBySide.Run run = SideBySide.Run.parse(line);
    assertThat(run.baseBytes()).isPositive();
    assertThat(run.codeBytes()).isNotNegative();
    assertThat(run.samplesPerSecond()).isPositive();
    // where Linux lets the process reset its high-water mark the peak is reported, above the base
    if (run.peakBytes() >= 0) {
      assertThat(run.peakBytes()).isGreaterThan(run.baseBytes());
    }
  }
}
