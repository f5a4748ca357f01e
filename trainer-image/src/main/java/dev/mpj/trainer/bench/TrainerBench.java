package dev.mpj.trainer.bench;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataOrder;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.data.SyntheticData;
import dev.mpj.trainer.loop.ProcessMemory;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.model.ModelFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The measurements of {@code mpj-trainer bench}. Times are medians over steps after warm-up. Memory
 * is measured per process: each precision trains in its own child JVM, which resets its resident
 * high-water mark after setting up (Linux {@code /proc/self/clear_refs}) so that the peak is the
 * training steps' own, and reports VmHWM. The children's Java heap is fixed and pre-touched, so the
 * peak above set-up is native memory: the tensors of the steps.
 */
public final class TrainerBench {
  /** The speed comparison's least warm-up time, both loops alternated (see {@link #overhead}). */
  public static final double WARM_UP_SECONDS = 5;

  /**
   * A child's Java heap is fixed and touched up front, so that what its resident memory adds is
   * native.
   */
  private static final List<String> FIXED_HEAP =
      List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

  /**
   * glibc settings under which resident memory follows the live tensors: every allocation of 64 KiB
   * or more is a mapping of its own, unmapped when freed (no dynamic threshold, no free memory kept
   * in the heap for reuse), so a step cannot hide its temporaries in memory a previous step freed.
   */
  private static final Map<String, String> EXACT_MALLOC =
      Map.of("MALLOC_MMAP_THRESHOLD_", "65536", "MALLOC_TRIM_THRESHOLD_", "0");

  /** A job spec for an MLP classifier on synthetic data, as YAML. */
  public static MixedPrecisionJob mlpJob(
      String precision, int features, String hidden, int classes, int batch, int steps) {
    return mlpJob(precision, "adam", features, hidden, classes, batch, steps);
  }

  /** The same, with {@code optimizer} ("adam" or "sgd"; SGD with momentum 0.9). */
  public static MixedPrecisionJob mlpJob(
      String precision,
      String optimizer,
      int features,
      String hidden,
      int classes,
      int batch,
      int steps) {
    String rule =
        optimizer.equals("sgd")
            ? "{type: sgd, learningRate: 0.01, momentum: 0.9}"
            : "{type: adam, learningRate: 0.001}";
    return JobFiles.parse(
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: bench}
        spec:
          precision: %s
          model: {architecture: mlp, mlp: {hiddenSizes: %s}}
          data:
            source: synthetic
            synthetic: {task: classification, samples: %d, features: %d, classes: %d}
            validationFraction: 0
          training: {globalBatchSize: %d, steps: %d, optimizer: %s, seed: 0}
        """
            .formatted(
                precision,
                hidden,
                Math.max(batch * 4, 1024),
                features,
                classes,
                batch,
                steps,
                rule));
  }

  public static TrainingSession session(MixedPrecisionJob job) {
    RunConfig config = RunConfig.standalone(job, null);
    Dataset data =
        SyntheticData.classification(
            config.spec().data.synthetic.samples,
            new int[] {config.spec().data.synthetic.features},
            config.spec().data.synthetic.classes,
            0);
    return new TrainingSession(config, DataSplit.of(data, 0, 0));
  }

  /**
   * FP32 step time of the trainer against DJL's own Trainer on the same model and batches, measured
   * in alternation (one step of each, in turn) so that a busy machine slows both alike, after a
   * warm-up of at least {@code warmUp} steps and {@link #WARM_UP_SECONDS}. Returns the medians in
   * ms: {trainer, bare DJL}.
   */
  public static double[] overhead(
      int features, String hidden, int classes, int batch, int warmUp, int steps) {
    MixedPrecisionJob job = mlpJob("fp32", features, hidden, classes, batch, warmUp + steps);
    try (TrainingSession session = session(job);
        BareDjlLoop bare = new BareDjlLoop(job, batch)) {
      double[] trainer = new double[steps];
      double[] plain = new double[steps];
      // Warm-up: at least warmUp alternated steps and WARM_UP_SECONDS, so that both loops run
      // JIT-compiled Java code; at a millisecond step ten steps would time the interpreter.
      long warmUpEnd = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
      for (int i = 0; i < warmUp || System.nanoTime() < warmUpEnd; i++) {
        session.runStep();
        bare.step();
      }
      for (int i = 0; i < steps; i++) {
        long t0 = System.nanoTime();
        session.runStep();
        long t1 = System.nanoTime();
        bare.step();
        long t2 = System.nanoTime();
        trainer[i] = (t1 - t0) / 1e6;
        plain[i] = (t2 - t1) / 1e6;
      }
      return new double[] {median(trainer), median(plain)};
    }
  }

  /**
   * In a child JVM (whose libtorch thread count is fixed at start): {@link #overhead} with 10
   * warm-up steps; prints "MEMORY trainerMs bareMs".
   */
  public static void speedChild(int features, String hidden, int classes, int batch, int steps) {
    double[] ms = overhead(features, hidden, classes, batch, 10, steps);
    System.out.println("MEMORY " + ms[0] + " " + ms[1]);
  }

  /**
   * Runs {@link #speedChild} in a fresh JVM with {@code threads} libtorch threads; returns the
   * medians in ms: {trainer, bare DJL}.
   */
  public double[] speedInChild(
      int threads, int features, String hidden, int classes, int batch, int steps)
      throws IOException, InterruptedException {
    List<String> jvm = new ArrayList<>(FIXED_HEAP);
    jvm.add("-Dai.djl.pytorch.num_threads=" + threads);
    String[] parts =
        child(
                jvm,
                List.of(
                    "--speed-child",
                    "--features",
                    "" + features,
                    "--hidden",
                    hidden,
                    "--classes",
                    "" + classes,
                    "--batch",
                    "" + batch,
                    "--steps",
                    "" + steps),
                Map.of())
            .get(0)
            .split(" ");
    return new double[] {Double.parseDouble(parts[1]), Double.parseDouble(parts[2])};
  }

  /**
   * In a child JVM: trains {@code steps} steps and, in each, resets the resident high-water mark
   * right after backward (model state, gradients and the step's activations are resident then); the
   * peak until the step ends is the update's own (unscale, checks, clipping, optimizer, copy-back),
   * less what the step added to resident memory mapped from files: libtorch's code for the update,
   * paged in by the first step that updates (in FP16 mixed the first step overflows and skips it,
   * so that is step 2). Prints "MEMORY parameters largestPeakAboveBackward" (bytes; -1 where the
   * mark cannot be reset).
   */
  public static void updateMemoryChild(
      String precision, String optimizer, int features, String hidden, int batch, int steps) {
    MixedPrecisionJob job = mlpJob(precision, optimizer, features, hidden, 10, batch, steps);
    try (TrainingSession session = session(job)) {
      long[] largest = {0};
      boolean[] resettable = {true};
      session.addListener(
          new TrainingListener() {
            ProcessMemory.Reading beforeUpdate;

            @Override
            public void afterBackward(long step, List<NDArray> gradients) {
              beforeUpdate = ProcessMemory.read();
              resettable[0] &= ProcessMemory.resetPeak();
            }

            @Override
            public void onStep(StepResult result) {
              if (result.step() > 1) { // the first step allocates the gradients themselves
                ProcessMemory.Reading end = ProcessMemory.read();
                long code = Math.max(0, end.fileBytes() - beforeUpdate.fileBytes());
                largest[0] = Math.max(largest[0], end.peakBytes() - beforeUpdate.rssBytes() - code);
              }
            }
          });
      for (int i = 0; i < steps; i++) {
        session.runStep();
      }
      System.out.println(
          "MEMORY " + session.parameters() + " " + (resettable[0] ? largest[0] : -1));
    }
  }

  /**
   * Runs {@link #updateMemoryChild} in a fresh JVM; returns {parameters, peak above backward in
   * bytes}.
   */
  public long[] updateMemoryInChild(
      String precision, String optimizer, int features, String hidden, int batch, int steps)
      throws IOException, InterruptedException {
    String[] parts =
        child(
                FIXED_HEAP,
                List.of(
                    "--update-memory-child",
                    precision,
                    "--optimizer",
                    optimizer,
                    "--features",
                    "" + features,
                    "--hidden",
                    hidden,
                    "--batch",
                    "" + batch,
                    "--steps",
                    "" + steps),
                EXACT_MALLOC)
            .get(0)
            .split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  /**
   * A plain DJL loop: DJL's Trainer, its Adam and softmax cross-entropy, the same block and
   * batches.
   */
  static final class BareDjlLoop implements AutoCloseable {
    private final Model model;
    private final Trainer trainer;
    private final Dataset data;
    private final DataOrder order;
    private final int batch;

    BareDjlLoop(MixedPrecisionJob job, int batch) {
      var spec = job.getSpec();
      this.batch = batch;
      data =
          SyntheticData.classification(
              spec.data.synthetic.samples,
              new int[] {spec.data.synthetic.features},
              spec.data.synthetic.classes,
              0);
      order = new DataOrder(data.samples(), 0);
      Engine.getInstance().setRandomSeed(0);
      model = Model.newInstance("bare-djl");
      model.setBlock(ModelFactory.build(spec.model, data));
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.001f)).build());
      trainer = model.newTrainer(config);
      trainer.initialize(ModelFactory.inputShape(data, batch));
    }

    void step() {
      int[] rows = order.next(batch);
      try (NDManager stepManager = trainer.getManager().newSubManager()) {
        NDArray x = data.inputBatch(stepManager, rows, DataType.FLOAT32);
        NDArray y = data.targetBatch(stepManager, rows);
        try (GradientCollector collector = trainer.newGradientCollector()) {
          NDArray prediction = trainer.forward(new NDList(x)).head();
          collector.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(prediction)));
        }
        trainer.step();
      }
    }

    @Override
    public void close() {
      trainer.close();
      model.close();
    }
  }

  /**
   * Median seconds of each phase of an FP16-mixed step: forward+backward, unscale+check, update,
   * copy-back.
   */
  public double[] fp16Split(int features, String hidden, int batch, int warmUp, int steps) {
    try (TrainingSession session =
        session(mlpJob("fp16-mixed", features, hidden, 10, batch, warmUp + steps))) {
      for (int i = 0; i < warmUp; i++) {
        session.runStep();
      }
      double[][] phases = new double[4][steps];
      for (int i = 0; i < steps; i++) {
        StepResult.Timings t = session.runStep().timings();
        phases[0][i] = t.forwardBackward() * 1e3;
        phases[1][i] = t.unscaleAndCheck() * 1e3;
        phases[2][i] = t.update() * 1e3;
        phases[3][i] = t.copyBack() * 1e3;
      }
      return new double[] {
        median(phases[0]), median(phases[1]), median(phases[2]), median(phases[3])
      };
    }
  }

  /**
   * In a child JVM: set up, train the first step (it pages in libtorch's code and makes the
   * gradients, which stay), reset the high-water mark, train {@code steps} more steps, print
   * "rssAfterSetup peakDuringSteps" in bytes, set-up meaning the process after the first step.
   */
  public static void memoryChild(
      String precision, int features, String hidden, int batch, int steps) throws IOException {
    try (TrainingSession session =
        session(mlpJob(precision, features, hidden, 10, batch, steps + 1))) {
      session.runStep();
      long setup = ProcessMemory.rssBytes();
      // Where the reset is not allowed the peak includes set-up, which both precisions share.
      ProcessMemory.resetPeak();
      for (int i = 0; i < steps; i++) {
        session.runStep();
      }
      System.out.println("MEMORY " + setup + " " + ProcessMemory.peakRssBytes());
    }
  }

  /** Runs {@link #memoryChild} in a fresh JVM; returns {rssAfterSetup, peakDuringSteps}. */
  public long[] memoryInChild(String precision, int features, String hidden, int batch, int steps)
      throws IOException, InterruptedException {
    String line =
        child(
                FIXED_HEAP,
                List.of(
                    "--memory-child",
                    precision,
                    "--features",
                    "" + features,
                    "--hidden",
                    hidden,
                    "--batch",
                    "" + batch,
                    "--steps",
                    "" + steps),
                Map.of())
            .get(0);
    String[] parts = line.split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  /**
   * Runs {@link #rssOverLongRun} in a fresh JVM whose heap is fixed and touched up front (-Xms =
   * -Xmx, AlwaysPreTouch), so that any growth of RSS is native memory; {@code mallocArenas} null
   * leaves glibc's default number of malloc arenas.
   */
  public List<String> longRunInChild(long steps, String mallocArenas)
      throws IOException, InterruptedException {
    return child(
        FIXED_HEAP,
        List.of("--long-run-child", "" + steps),
        mallocArenas == null ? Map.of() : Map.of("MALLOC_ARENA_MAX", mallocArenas));
  }

  /**
   * Runs {@code mpj-trainer bench ARGS} in a child JVM with this class path and {@code environment}
   * added to this process's; returns its MEMORY lines.
   */
  private static List<String> child(
      List<String> jvm, List<String> args, Map<String, String> environment)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Dai.djl.offline=true");
    if (jvm.stream().noneMatch(o -> o.startsWith("-Dai.djl.pytorch.num_threads="))) {
      command.add(
          "-Dai.djl.pytorch.num_threads=" + System.getProperty("ai.djl.pytorch.num_threads", "2"));
    }
    command.addAll(jvm);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.mpj.trainer.cli.TrainerCommand");
    command.add("bench");
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException("bench child failed: " + output);
    }
    List<String> lines = output.lines().filter(l -> l.startsWith("MEMORY ")).toList();
    if (lines.isEmpty()) {
      throw new IOException("no measurement from child: " + output);
    }
    return lines;
  }

  /**
   * Prints "MEMORY step rss" at 1%, 10%, 50% and 100% of a long run of a small FP16-mixed model.
   */
  public static void rssOverLongRun(long last) {
    long[] checkpoints = {
      Math.max(1, last / 100), Math.max(1, last / 10), Math.max(1, last / 2), last
    };
    try (TrainingSession session =
        session(mlpJob("fp16-mixed", 32, "[64, 64]", 8, 64, (int) last))) {
      int next = 0;
      for (long s = 1; s <= last; s++) {
        session.runStep();
        while (next < checkpoints.length && s == checkpoints[next]) {
          System.out.println("MEMORY " + s + " " + ProcessMemory.rssBytes());
          next++;
        }
      }
    }
  }

  public static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
