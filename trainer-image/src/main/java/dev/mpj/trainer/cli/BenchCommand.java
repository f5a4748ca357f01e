package dev.mpj.trainer.cli;

import dev.mpj.trainer.bench.AllReduceBenchCommand;
import dev.mpj.trainer.bench.CheckpointBenchCommand;
import dev.mpj.trainer.bench.TrainerBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mpj-trainer bench}: prints what the trainer costs, measured in one run. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Measure the trainer: FP32 speed against DJL's Trainer, the update step's memory, FP32 against FP16-mixed memory, step time split.",
    subcommands = {
      AllReduceBenchCommand.class,
      CheckpointBenchCommand.class,
      PytorchBenchCommand.class
    })
final class BenchCommand implements Callable<Integer> {
  /** The FP32 speed comparison's models: label, features, hidden sizes, classes, batch. */
  private static final Object[][] SPEED_SHAPES = {
    {"quick-start mlp 32-128-128-8, 64", 32, "[128, 128]", 8, 64},
    {"mlp 64-2048-2048-10, 256", 64, "[2048, 2048]", 10, 256}
  };

  @Option(names = "--steps", description = "Measured steps per timing (default ${DEFAULT-VALUE}).")
  int steps = 30;

  @Option(
      names = "--long-run-steps",
      description = "Steps of the RSS flatness run (default ${DEFAULT-VALUE}; 0: skip).")
  int longRunSteps = 10_000;

  @Option(names = "--long-run-child", hidden = true)
  long longRunChild;

  @Option(names = "--memory-child", hidden = true)
  String memoryChild;

  @Option(names = "--speed-child", hidden = true)
  boolean speedChild;

  @Option(names = "--update-memory-child", hidden = true)
  String updateMemoryChild;

  @Option(names = "--optimizer", hidden = true)
  String optimizer = "adam";

  @Option(names = "--classes", hidden = true)
  int classes = 10;

  @Option(names = "--features", hidden = true)
  int features = 64;

  @Option(names = "--hidden", hidden = true)
  String hidden = "[256, 256, 256, 256]";

  @Option(names = "--batch", hidden = true)
  int batch = 8192;

  @Override
  public Integer call() throws Exception {
    if (longRunChild > 0) {
      TrainerBench.rssOverLongRun(longRunChild);
      return 0;
    }
    if (speedChild) {
      TrainerBench.speedChild(features, hidden, classes, batch, steps);
      return 0;
    }
    if (updateMemoryChild != null) {
      TrainerBench.updateMemoryChild(updateMemoryChild, optimizer, features, hidden, batch, steps);
      return 0;
    }
    if (memoryChild != null) {
      TrainerBench.memoryChild(memoryChild, features, hidden, batch, 2);
      return 0;
    }
    TrainerBench bench = new TrainerBench();
    System.out.println(
        "mpj-trainer bench (CPU; libtorch threads: "
            + System.getProperty("ai.djl.pytorch.num_threads", "default")
            + ")");
    System.out.println();

    System.out.println(
        "1. FP32 step time against DJL's own Trainer (Adam, same block and batches; steps timed"
            + " in alternation; median of "
            + steps
            + " steps after a warm-up of at least 10 steps and "
            + (int) TrainerBench.WARM_UP_SECONDS
            + " s; child JVM per row)");
    System.out.printf(
        "   %-34s %8s %14s %14s %10s%n",
        "model, batch", "threads", "mpj trainer", "DJL Trainer", "ratio");
    for (Object[] shape : SPEED_SHAPES) {
      for (int threads : new int[] {1, 2}) {
        double[] ms =
            bench.speedInChild(
                threads, (int) shape[1], (String) shape[2], (int) shape[3], (int) shape[4], steps);
        System.out.printf(
            "   %-34s %8d %11.2f ms %11.2f ms %8.2f x%n",
            shape[0], threads, ms[0], ms[1], ms[0] / ms[1]);
      }
    }
    System.out.println();

    System.out.println(
        "2. Update step: peak resident memory from the end of backward to the end of the step"
            + " (unscale, checks, clipping, optimizer, copy-back), above what was resident then,"
            + " less the code it paged in (the update's kernels, first run in step 2 in fp16-mixed);"
            + " mlp 64-2048-2048-10, batch 32, largest of steps 2-4, child JVM per row with every"
            + " allocation of 64 KiB or more mapped on its own, so that resident memory follows the"
            + " live tensors");
    System.out.printf(
        "   %-12s %-10s %12s %18s %14s%n",
        "precision", "optimizer", "parameters", "peak above", "per parameter");
    for (String precision : new String[] {"fp32", "fp16-mixed"}) {
      for (String optimizer : new String[] {"adam", "sgd"}) {
        long[] update = bench.updateMemoryInChild(precision, optimizer, 64, "[2048, 2048]", 32, 4);
        System.out.printf(
            "   %-12s %-10s %12d %14.2f MiB %10.2f B/param%n",
            precision,
            optimizer,
            update[0],
            mib(update[1]),
            update[1] < 0 ? Double.NaN : (double) update[1] / update[0]);
      }
    }
    System.out.println();

    System.out.println(
        "3. Peak resident memory of the training steps, mlp "
            + features
            + "-"
            + hidden
            + "-10, micro-batch "
            + batch
            + " (child JVM each, heap fixed; set-up includes one first step, which pages in"
            + " libtorch's code and makes the gradients; high-water mark reset after it)");
    long[] fp32 = bench.memoryInChild("fp32", features, hidden, batch, 2);
    long[] fp16 = bench.memoryInChild("fp16-mixed", features, hidden, batch, 2);
    System.out.printf(
        "   %-12s %16s %22s %24s%n",
        "precision", "RSS after set-up", "peak during 2 steps", "peak above set-up");
    System.out.printf(
        "   %-12s %13.1f MiB %19.1f MiB %21.1f MiB%n",
        "fp32", mib(fp32[0]), mib(fp32[1]), mib(fp32[1] - fp32[0]));
    System.out.printf(
        "   %-12s %13.1f MiB %19.1f MiB %21.1f MiB%n",
        "fp16-mixed", mib(fp16[0]), mib(fp16[1]), mib(fp16[1] - fp16[0]));
    System.out.printf(
        "   fp16-mixed / fp32, peak above set-up: %.2f%n",
        (double) (fp16[1] - fp16[0]) / (fp32[1] - fp32[0]));
    System.out.println();

    double[] split = bench.fp16Split(32, "[128, 128]", 64, 10, steps);
    double total = split[0] + split[1] + split[2] + split[3];
    System.out.println(
        "4. FP16-mixed step split, quick-start mlp 32-128-128-10, batch 64 (median ms; CPU FP16 speed is not a result)");
    String[] names = {
      "forward + backward",
      "unscale + inf/NaN check",
      "clip + optimizer update (FP32)",
      "copy-back master -> FP16"
    };
    for (int i = 0; i < 4; i++) {
      System.out.printf("   %-34s %8.3f ms %6.1f %%%n", names[i], split[i], 100 * split[i] / total);
    }
    System.out.println();

    if (longRunSteps > 0) {
      System.out.println(
          "5. Resident memory over a "
              + longRunSteps
              + "-step fp16-mixed run, mlp 32-64-64-8, batch 64"
              + " (child JVM, heap fixed at 256 MiB and pre-touched: growth is native)");
      List<String> defaults = bench.longRunInChild(longRunSteps, null);
      List<String> oneArena = bench.longRunInChild(longRunSteps, "1");
      System.out.printf("   %-18s %22s %24s%n", "", "default malloc arenas", "MALLOC_ARENA_MAX=1");
      for (int i = 0; i < defaults.size(); i++) {
        String[] a = defaults.get(i).split(" ");
        String[] b = oneArena.get(i).split(" ");
        System.out.printf(
            "   after step %-7s %18.1f MiB %20.1f MiB%n",
            a[1], mib(Long.parseLong(a[2])), mib(Long.parseLong(b[2])));
      }
    }
    return 0;
  }

  private static double mib(long bytes) {
    return bytes / 1048576.0;
  }
}
