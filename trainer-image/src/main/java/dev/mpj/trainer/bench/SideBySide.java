package dev.mpj.trainer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.trainer.config.MatrixLibrary;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.loop.ProcessMemory;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The trainer against eager PyTorch on the CPU ({@code mpj-trainer bench pytorch}): the same MLP
 * and transformer shapes, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), mean softmax cross-entropy,
 * FP32, one libtorch thread each, every run in a fresh process. Each run reports the resident
 * memory once its framework is loaded and before the model exists (base), the high-water mark of
 * the measured steps (reset after warm-up steps that make the lazy state), and samples per second.
 */
public final class SideBySide {
  /**
   * The MLP of {@code mpj bench memory}: 256 features, 8 hidden layers of 256 (ReLU), 10 classes.
   */
  public static final String MLP =
      "{architecture: mlp, mlp: {hiddenSizes: [256, 256, 256, 256, 256, 256, 256, 256]}}";

  /** The transformer of {@code mpj bench memory}: 2 layers, hidden 128, 4 heads, V 256, S 128. */
  public static final String TRANSFORMER =
      "{architecture: transformer, transformer: {layers: 2, hiddenSize: 128, heads: 4,"
          + " vocabSize: 256, sequenceLength: 128}}";

  /** The run whose {@link Run#stepBytes} is the median of {@code runs} (the upper one of two). */
  public static Run medianOfSteps(Run... runs) {
    Run[] sorted = runs.clone();
    Arrays.sort(sorted, Comparator.comparingLong(Run::stepBytes));
    return sorted[sorted.length / 2];
  }

  /**
   * The run whose {@link Run#samplesPerSecond} is the median of {@code runs} (the upper of two).
   */
  public static Run medianOfSpeed(Run... runs) {
    Run[] sorted = runs.clone();
    Arrays.sort(sorted, Comparator.comparingDouble(Run::samplesPerSecond));
    return sorted[sorted.length / 2];
  }

  /**
   * The median of {@code ours[i] / theirs[i]} in samples per second (the upper of two), each pair
   * run back to back: the machine's speed drifts between minutes (a shared host), and a pair sees
   * the same drift on both sides where the two sides' own medians may not.
   */
  public static double medianSpeedRatio(Run[] ours, Run[] theirs) {
    if (ours.length != theirs.length || ours.length == 0) {
      throw new IllegalArgumentException(
          "pairs of runs needed: " + ours.length + " against " + theirs.length);
    }
    double[] ratios = new double[ours.length];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = ours[i].samplesPerSecond() / theirs[i].samplesPerSecond();
    }
    Arrays.sort(ratios);
    return ratios[ratios.length / 2];
  }

  /** The script of the PyTorch side, a resource of this jar. */
  static final String SCRIPT = "pytorch_side_by_side.py";

  /**
   * One run's figures: resident memory at the base and the steps' peak, samples per second, and the
   * code the run paged in after its base (resident memory mapped from files: the framework's code
   * as its operations first run; 0 where not measured).
   */
  public record Run(long baseBytes, long peakBytes, double samplesPerSecond, long codeBytes) {
    public Run(long baseBytes, long peakBytes, double samplesPerSecond) {
      this(baseBytes, peakBytes, samplesPerSecond, 0);
    }

    /** The steps' peak above the base, less the code paged in since (as bench memory counts). */
    public long stepBytes() {
      return peakBytes - baseBytes - Math.max(0, codeBytes);
    }

    /** Parses a "RESULT base peak samplesPerSecond [codeBytes]" line. */
    public static Run parse(String line) {
      String[] parts = line.trim().split(" ");
      return new Run(
          Long.parseLong(parts[1]),
          Long.parseLong(parts[2]),
          Double.parseDouble(parts[3]),
          parts.length > 4 ? Long.parseLong(parts[4]) : 0);
    }

    String line() {
      return "RESULT " + baseBytes + " " + peakBytes + " " + samplesPerSecond + " " + codeBytes;
    }
  }

  private SideBySide() {}

  /** The job the trainer side runs: one micro-batch per step, no validation split. */
  public static MixedPrecisionJob job(String model, int microBatch, int steps) {
    String data =
        model.equals("mlp")
            ? "{source: synthetic, synthetic: {task: classification, samples: %d, features: 256, classes: 10}, validationFraction: 0}"
            : "{source: synthetic, synthetic: {task: sequence, samples: %d}, validationFraction: 0}";
    return JobFiles.parse(
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: side-by-side}
        spec:
          precision: fp32
          model: %s
          data: %s
          training: {globalBatchSize: %d, steps: %d, optimizer: {type: adam, learningRate: 0.001}, seed: 0}
        """
            .formatted(
                model.equals("mlp") ? MLP : TRANSFORMER,
                data.formatted(Math.max(4 * microBatch, 1024)),
                microBatch,
                steps));
  }

  /** In this process (a child JVM): the trainer's run, printed as the PyTorch side prints its. */
  public static void trainerChild(String model, int microBatch, int warmUp, int steps) {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.zeros(new Shape(1)).add(1);
    }
    MixedPrecisionJob job = job(model, microBatch, warmUp + steps);
    RunConfig config = RunConfig.standalone(job, microBatch);
    Dataset all = DataSource.load(config.spec());
    // The base is taken once the job is read and the data set made, as the PyTorch side takes its
    // own once its arguments are read (and adds its data set): the classes the JVM loads to parse
    // a job and make data are no part of a training step.
    ProcessMemory.Reading base = ProcessMemory.read();
    try (TrainingSession session = new TrainingSession(config, DataSplit.of(all, 0, 0))) {
      for (int i = 0; i < warmUp; i++) {
        session.runStep();
      }
      boolean reset = ProcessMemory.resetPeak();
      long started = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        session.runStep();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      ProcessMemory.Reading end = ProcessMemory.read();
      long peak = reset ? end.peakBytes() : -1;
      long code = base.fileBytes() < 0 ? 0 : end.fileBytes() - base.fileBytes();
      System.out.println(new Run(base.rssBytes(), peak, steps * microBatch / seconds, code).line());
    }
  }

  /**
   * In this process (a child JVM): one FP32 matrix multiply {@code [m, k] x [k, n]} through DJL,
   * timed alone as the PyTorch side times its own (the median of 5 rounds of enough products for
   * about 0.2 s), printed as {@code RESULT 0 0 GFLOP/s}: the BLAS under the framework.
   */
  public static void gemmChild(long m, long k, long n) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.randomNormal(new Shape(m, k));
      NDArray w = manager.randomNormal(new Shape(k, n));
      for (int i = 0; i < 3; i++) {
        x.matMul(w).close();
      }
      int repeats = 1;
      while (timeProducts(x, w, repeats) < 0.2) {
        repeats *= 2;
      }
      double[] rounds = new double[5];
      for (int i = 0; i < rounds.length; i++) {
        rounds[i] = timeProducts(x, w, repeats);
      }
      Arrays.sort(rounds);
      double seconds = rounds[2] / repeats;
      System.err.println(
          "mpj-trainer: matrix library: " + MatrixLibrary.ofThisProcess().describe());
      try (NDArray product = x.matMul(w)) {
        System.out.println(
            "CHECK "
                + productError(
                    x.toFloatArray(), w.toFloatArray(), product.toFloatArray(), m, k, n));
      }
      System.out.println(new Run(0, 0, 2.0 * m * k * n / seconds / 1e9).line());
    }
  }

  /**
   * The largest error of an FP32 product {@code c = x w} against the same product in double, each
   * element's relative to {@code sum |x_ik| |w_kj|} (the scale its rounding errors have): a few
   * FP32 epsilons times {@code sqrt(k)} from a correct kernel, about 1 from a wrong one.
   */
  public static double productError(float[] x, float[] w, float[] c, long m, long k, long n) {
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double exact = 0;
        double scale = 0;
        for (int p = 0; p < k; p++) {
          double term = (double) x[(int) (i * k + p)] * w[(int) (p * n + j)];
          exact += term;
          scale += Math.abs(term);
        }
        double error = Math.abs(c[(int) (i * n + j)] - exact) / Math.max(scale, Double.MIN_NORMAL);
        worst = Math.max(worst, error);
      }
    }
    return worst;
  }

  private static double timeProducts(NDArray x, NDArray w, int repeats) {
    long started = System.nanoTime();
    for (int i = 0; i < repeats; i++) {
      x.matMul(w).close();
    }
    return (System.nanoTime() - started) / 1e9;
  }

  /** GFLOP/s of one FP32 {@code [m, k] x [k, n]} through DJL in a child JVM, one thread. */
  public static double trainerGemm(long m, long k, long n)
      throws IOException, InterruptedException {
    return Run.parse(resultLine(childCommand("--gemm-child", m + "," + k + "," + n), Map.of()))
        .samplesPerSecond();
  }

  /** GFLOP/s of the same product in PyTorch under {@code python}, one thread. */
  public static double pytorchGemm(Path python, Path script, long m, long k, long n)
      throws IOException, InterruptedException {
    List<String> command =
        List.of(
            python.toString(),
            script.toString(),
            "--gemm",
            m + "," + k + "," + n,
            "--threads",
            "1");
    return Run.parse(resultLine(command, Map.of())).samplesPerSecond();
  }

  /** The trainer's run in a child JVM (heap fixed and touched up front, one libtorch thread). */
  public static Run trainer(
      String model, int microBatch, int warmUp, int steps, Map<String, String> environment)
      throws IOException, InterruptedException {
    List<String> command = childCommand("--trainer-child", model);
    command.addAll(stepArguments(microBatch, warmUp, steps));
    return Run.parse(resultLine(command, environment));
  }

  /** The run's shape, as both sides take it. */
  private static List<String> stepArguments(int microBatch, int warmUp, int steps) {
    return List.of(
        "--micro-batch", "" + microBatch, "--warm-up", "" + warmUp, "--steps", "" + steps);
  }

  private static List<String> childCommand(String... arguments) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(
        List.of(
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=1",
            "-Dai.djl.pytorch.num_interop_threads=1",
            "-Xms256m",
            "-Xmx256m",
            "-XX:+AlwaysPreTouch",
            "-cp",
            System.getProperty("java.class.path"),
            "dev.mpj.trainer.cli.TrainerCommand",
            "bench",
            "pytorch"));
    command.addAll(List.of(arguments));
    return command;
  }

  /** The PyTorch side with {@code python}; null when that Python has no torch. */
  public static Run pytorch(
      Path python,
      Path script,
      String model,
      int microBatch,
      int warmUp,
      int steps,
      Map<String, String> environment)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of(python.toString(), script.toString(), "--model", model));
    command.addAll(stepArguments(microBatch, warmUp, steps));
    command.addAll(List.of("--threads", "1"));
    String line = resultLine(command, environment);
    return line == null ? null : Run.parse(line);
  }

  /**
   * PyTorch's version under {@code python}, or null when it has none (or the Python is missing).
   */
  public static String pytorchVersion(Path python) throws InterruptedException {
    try {
      Process process =
          new ProcessBuilder(python.toString(), "-c", "import torch; print(torch.__version__)")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String out = new String(process.getInputStream().readAllBytes()).trim();
      return process.waitFor() == 0 && !out.isEmpty() ? out : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Writes the PyTorch side's script from this jar into {@code folder}. */
  public static Path extractScript(Path folder) throws IOException {
    Path script = folder.resolve(SCRIPT);
    try (InputStream in = SideBySide.class.getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IOException(SCRIPT + " is missing from the trainer's jar");
      }
      Files.copy(in, script);
    }
    return script;
  }

  /** Per-sample bytes: the slope of step memory between two micro-batches. */
  public static double slope(int small, Run atSmall, int large, Run atLarge) {
    return (double) (atLarge.stepBytes() - atSmall.stepBytes()) / (large - small);
  }

  private static String resultLine(List<String> command, Map<String, String> environment)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes());
    int exit = process.waitFor();
    if (exit == 3 && output.contains("NO_TORCH")) {
      return null;
    }
    List<String> results = output.lines().filter(l -> l.startsWith("RESULT ")).toList();
    if (exit != 0 || results.isEmpty()) {
      throw new IOException(
          "side-by-side run failed (exit "
              + exit
              + "): "
              + String.join(" ", command)
              + "\n"
              + output);
    }
    return results.get(results.size() - 1);
  }
}
