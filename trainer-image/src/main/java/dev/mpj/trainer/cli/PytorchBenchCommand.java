package dev.mpj.trainer.cli;

import dev.mpj.trainer.bench.SideBySide;
import dev.mpj.trainer.bench.SideBySide.Run;
import dev.mpj.trainer.config.MatrixLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mpj-trainer bench pytorch}: the trainer beside eager PyTorch, memory and speed. */
@Command(
    name = "pytorch",
    mixinStandardHelpOptions = true,
    description = {
      "The trainer against eager PyTorch on the CPU: the same MLP and transformer shapes, Adam, FP32,"
          + " one thread each, each run in its own process. Prints peak step memory, per-sample"
          + " activation memory (the slope over micro-batches) and samples/s of both, as ratios.",
      "Needs PyTorch for --python (Debian: apt-get install python3-torch); says so when it is missing."
    })
final class PytorchBenchCommand implements Callable<Integer> {
  /**
   * glibc maps every block of 64 KiB or more and unmaps it when freed: RSS follows live tensors.
   */
  private static final Map<String, String> UNMAPPED = Map.of("MALLOC_MMAP_THRESHOLD_", "65536");

  @Option(
      names = "--python",
      description = "Python with torch (default ${DEFAULT-VALUE}, Debian's python3-torch).")
  Path python = Path.of("/usr/bin/python3");

  @Option(
      names = "--models",
      split = ",",
      description = "mlp and/or transformer (default ${DEFAULT-VALUE}).")
  List<String> models = List.of("mlp", "transformer");

  /** Steps before the timed ones of a speed run: the JVM's compilers and lazy state settle. */
  private static final int SPEED_WARM_UP = 3;

  @Option(
      names = "--speed-steps",
      description = "Timed steps per speed run, after 3 warm-up steps (default ${DEFAULT-VALUE}).")
  int speedSteps = 16;

  @Option(
      names = "--speed-repeats",
      description =
          "Pairs of runs (PyTorch, then the trainer) per micro-batch in the speed section; the"
              + " medians are reported, and the median of the pairs' ratios (default"
              + " ${DEFAULT-VALUE}: on a shared machine a step's time drifts by 10-20% between"
              + " minutes).")
  int speedRepeats = 5;

  @Option(
      names = "--memory-repeats",
      description =
          "Runs per side and micro-batch in the memory section; the median is reported (default"
              + " ${DEFAULT-VALUE}: the JVM's own native memory, its compilers', varies by a few MiB"
              + " from run to run).")
  int memoryRepeats = 3;

  @Spec CommandSpec spec;

  @Option(names = "--trainer-child", hidden = true)
  String trainerChild;

  @Option(names = "--gemm-child", hidden = true, split = ",")
  long[] gemmChild;

  @Option(names = "--micro-batch", hidden = true)
  int microBatch;

  @Option(names = "--warm-up", hidden = true)
  int warmUp;

  @Option(names = "--steps", hidden = true)
  int steps;

  @Override
  public Integer call() throws Exception {
    if (memoryRepeats < 1) {
      throw new ParameterException(spec.commandLine(), "--memory-repeats: must be 1 or more");
    }
    if (speedRepeats < 1) {
      throw new ParameterException(spec.commandLine(), "--speed-repeats: must be 1 or more");
    }
    if (speedSteps < 1) {
      throw new ParameterException(spec.commandLine(), "--speed-steps: must be 1 or more");
    }
    for (String model : models) {
      if (!model.equals("mlp") && !model.equals("transformer")) {
        throw new ParameterException(
            spec.commandLine(), "--models: unknown model " + model + " (mlp, transformer)");
      }
    }
    if (gemmChild != null) {
      SideBySide.gemmChild(gemmChild[0], gemmChild[1], gemmChild[2]);
      return 0;
    }
    if (trainerChild != null) {
      SideBySide.trainerChild(trainerChild, microBatch, warmUp, steps);
      return 0;
    }
    String version = SideBySide.pytorchVersion(python);
    if (version == null) {
      System.out.println(
          "mpj-trainer bench pytorch: PyTorch is not installed for "
              + python
              + "; nothing measured. Install it (Debian: apt-get install python3-torch"
              + " libopenblas0-pthread) or point --python at a Python that has it.");
      return 0;
    }
    Path folder = Files.createTempDirectory("mpj-bench-pytorch");
    try {
      Path script = SideBySide.extractScript(folder);
      System.out.printf(
          "mpj-trainer bench pytorch: the trainer against eager PyTorch %s (%s) on the CPU, FP32,"
              + " Adam, one libtorch thread each, every run in its own process%n"
              + "Matrix library under the trainer: %s%n%n",
          version, python, MatrixLibrary.ofThisProcess().describe());
      System.out.println(
          "1. Peak step memory: the high-water mark of 2 steps after 1 warm-up step, above the"
              + " process once its framework is loaded, its job or arguments read and its data set"
              + " made (before the model exists; the data set is not counted), less the code"
              + " each side paged in since (resident memory mapped from files: the framework's code,"
              + " which mpj bench memory leaves out too; shown as \"code\")."
              + " MALLOC_MMAP_THRESHOLD_=65536 in both: resident memory follows the live tensors."
              + " Median of "
              + memoryRepeats
              + " runs each.");
      System.out.printf(
          "   %-12s %6s %14s %14s %16s %24s%n",
          "model", "micro", "pytorch", "trainer", "trainer/pytorch", "code pytorch / trainer");
      for (String model : models) {
        int[] batches = microBatches(model);
        Run[] torch = new Run[batches.length];
        Run[] ours = new Run[batches.length];
        for (int i = 0; i < batches.length; i++) {
          Run[] torchRuns = new Run[memoryRepeats];
          Run[] ourRuns = new Run[memoryRepeats];
          for (int r = 0; r < memoryRepeats; r++) {
            torchRuns[r] = SideBySide.pytorch(python, script, model, batches[i], 1, 2, UNMAPPED);
            ourRuns[r] = SideBySide.trainer(model, batches[i], 1, 2, UNMAPPED);
          }
          torch[i] = SideBySide.medianOfSteps(torchRuns);
          ours[i] = SideBySide.medianOfSteps(ourRuns);
          System.out.printf(
              "   %-12s %6d %10.1f MiB %10.1f MiB %16.2f %13.1f / %4.1f MiB%n",
              model,
              batches[i],
              mib(torch[i].stepBytes()),
              mib(ours[i].stepBytes()),
              (double) ours[i].stepBytes() / torch[i].stepBytes(),
              mib(torch[i].codeBytes()),
              mib(ours[i].codeBytes()));
        }
        int last = batches.length - 1;
        double torchSlope = SideBySide.slope(batches[0], torch[0], batches[last], torch[last]);
        double ourSlope = SideBySide.slope(batches[0], ours[0], batches[last], ours[last]);
        System.out.printf(
            "   %-12s per sample (slope %d..%d): pytorch %.1f KiB, trainer %.1f KiB,"
                + " trainer/pytorch %.2f%n",
            model,
            batches[0],
            batches[last],
            torchSlope / 1024,
            ourSlope / 1024,
            ourSlope / torchSlope);
      }
      System.out.println();
      System.out.println(
          "2. Speed: samples/s over "
              + speedSteps
              + " steps after "
              + SPEED_WARM_UP
              + " warm-up steps, glibc's default allocator. "
              + speedRepeats
              + " pairs of runs back to back (PyTorch, then the trainer): each side's median, and"
              + " the median of the pairs' ratios.");
      System.out.printf(
          "   %-12s %6s %14s %14s %16s%n",
          "model", "micro", "pytorch", "trainer", "trainer/pytorch");
      for (String model : models) {
        for (int batch : microBatches(model)) {
          Run[] torchRuns = new Run[speedRepeats];
          Run[] ourRuns = new Run[speedRepeats];
          for (int r = 0; r < speedRepeats; r++) {
            torchRuns[r] =
                SideBySide.pytorch(
                    python, script, model, batch, SPEED_WARM_UP, speedSteps, Map.of());
            ourRuns[r] = SideBySide.trainer(model, batch, SPEED_WARM_UP, speedSteps, Map.of());
          }
          Run torch = SideBySide.medianOfSpeed(torchRuns);
          Run ours = SideBySide.medianOfSpeed(ourRuns);
          double ratio = SideBySide.medianSpeedRatio(ourRuns, torchRuns);
          System.out.printf(
              "   %-12s %6d %14.1f %14.1f %16.2f%n",
              model, batch, torch.samplesPerSecond(), ours.samplesPerSecond(), ratio);
        }
      }
      System.out.println();
      System.out.println(
          "3. The BLAS under each: one FP32 matrix multiply of a layer's shape, timed alone"
              + " (GFLOP/s, median of 5 rounds, one thread). Where trainer/pytorch is below 1 here,"
              + " the speed ratios above are bounded by the matrix library, not by the training"
              + " loop: DJL's libtorch calls the oneMKL built into it, which takes the kernels a"
              + " CPU allows on Intel's CPUs only unless the launcher preloaded "
              + MatrixLibrary.LIBRARY
              + " (docs/concepts/mixed-precision.md, \"The matrix library on AMD CPUs\"),"
              + " Debian's PyTorch the system's BLAS (OpenBLAS with libopenblas0-pthread).");
      System.out.printf(
          "   %-12s %-24s %14s %14s %16s%n",
          "model", "[M,K] x [K,N]", "pytorch", "trainer", "trainer/pytorch");
      for (String model : models) {
        long[] shape = gemmShape(model);
        double torch = SideBySide.pytorchGemm(python, script, shape[0], shape[1], shape[2]);
        double ours = SideBySide.trainerGemm(shape[0], shape[1], shape[2]);
        System.out.printf(
            "   %-12s %-24s %14.1f %14.1f %16.2f%n",
            model,
            "[" + shape[0] + "," + shape[1] + "] x [" + shape[1] + "," + shape[2] + "]",
            torch,
            ours,
            ours / torch);
      }
      System.out.println();
      System.out.println(
          "Targets (docs/concepts/mixed-precision.md): trainer/pytorch peak step memory <= 1.15,"
              + " per-sample slope within 15% (0.85..1.15), speed >= 1.0.");
      return 0;
    } finally {
      try (var files = Files.list(folder)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(folder);
    }
  }

  private static int[] microBatches(String model) {
    return switch (model) {
      case "mlp" -> new int[] {1024, 4096};
      case "transformer" -> new int[] {8, 32};
      default -> throw new IllegalArgumentException("unknown model " + model);
    };
  }

  /**
   * The product timed for {@code model}: a hidden layer of the MLP at micro-batch 1024, and the
   * transformer's MLP expansion at micro-batch 32 (32 x 128 positions, hidden 128 to 512).
   */
  private static long[] gemmShape(String model) {
    return model.equals("mlp") ? new long[] {1024, 256, 256} : new long[] {4096, 128, 512};
  }

  private static double mib(long bytes) {
    return bytes / 1048576.0;
  }
}
