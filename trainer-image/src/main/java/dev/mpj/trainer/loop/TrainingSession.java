package dev.mpj.trainer.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.trainer.amp.LossScaler;
import dev.mpj.trainer.amp.MasterWeights;
import dev.mpj.trainer.amp.UnscaledGradients;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataOrder;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.model.GraphScalar;
import dev.mpj.trainer.model.Intermediates;
import dev.mpj.trainer.model.ModelFactory;
import dev.mpj.trainer.optim.GradientClipping;
import dev.mpj.trainer.optim.Optimizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One replica's training run. It owns every native array of the run: the model (working and master
 * blocks) and the optimizer state live in managers closed with the session; each step's arrays live
 * in a per-step sub-manager and an {@link NDScope}, so nothing native outlives its step.
 *
 * <p>A step: reseed the engine from (seed, step); take this replica's shard of the next global
 * batch; for each micro-batch forward, FP32 loss weighted by {@code 1 / globalBatch} per sample (so
 * micro-batches and replicas add up to the mean over the global batch whatever their sizes, and
 * each sample's gradient through the network has the same size whatever the number of replicas),
 * backward of loss x scale; sum the gradients across replicas ({@link GradientSync}); unscale
 * ({@link LossScaler#unscale}: the inf/NaN check and the global norm in one pass) and agree on
 * overflow with the other replicas; on overflow skip; else clip ({@link GradientClipping}), step
 * the optimizer on the FP32 master weights (unscaling and clipping each piece of gradient as it
 * makes its FP32 copy), copy back into the working weights; update the loss scale. GradScaler's
 * recipe: scale, backward, unscale, clip, step, update.
 */
public final class TrainingSession implements AutoCloseable {
  private static final int EVALUATION_BATCH = 512;

  private final RunConfig config;
  private final DataSplit data;
  private final NDManager root;
  private final NDManager modelManager;
  private final NDManager optimizerManager;
  private final MasterWeights weights;
  private final Optimizer optimizer;
  private final LossScaler scaler;
  private final GradientClipping clipping;
  private final Objective objective;
  private DataOrder order;
  private final ParameterStore store;
  private final long totalSteps;
  private final long parameters;
  private final List<TrainingListener> listeners = new ArrayList<>();

  /**
   * Each sample's loss weight, {@code 1 / globalBatch}, as a {@link GraphScalar}: the same in every
   * step of the run, so made once.
   */
  private final NDArray lossWeight;

  /** The loss scale as a {@link GraphScalar}, made again only when the scale changes. */
  private NDArray scaleScalar;

  private float scaleScalarValue;
  private final double[] recentLosses = new double[50];
  private GradientSync sync = GradientSync.SINGLE_PROCESS;
  private long step;
  private long skipped;
  private ParityCheck lastParity;
  private Long resumedFromStep;
  private RuntimeException stopReason;

  public TrainingSession(RunConfig config, DataSplit data) {
    this.config = config;
    this.data = data;
    Dataset train = data.train();
    this.root = NDManager.newBaseManager();
    this.modelManager = root.newSubManager();
    this.optimizerManager = root.newSubManager();
    boolean mixed = config.precision() == Precision.FP16_MIXED;
    Engine.getInstance(); // loads libtorch: the thread that loads it has grad mode off
    recordNoGradient();
    var shape = ModelFactory.inputShape(train, 1);

    Engine.getInstance().setRandomSeed((int) config.seed());
    MasterWeights.GroupedMaster grouped =
        MasterWeights.buildMaster(
            () -> ModelFactory.build(config.spec().model, train), modelManager, shape);
    Block master = grouped.block();
    Block working = master;
    if (mixed) {
      // The FP16 parameters get their values from the FP32 master: initialisation draws in FP32
      // only.
      working = ModelFactory.build(config.spec().model, train);
      working.setInitializer(Initializer.ZEROS, p -> true);
      working.initialize(modelManager, DataType.FLOAT16, shape);
    }
    this.weights = new MasterWeights(working, grouped);
    weights.copyToWorking();
    this.parameters = ModelFactory.trainableParameters(master);
    this.optimizer =
        Optimizer.of(
            config.spec().training.optimizer,
            weights.names(),
            weights.masterArrays(),
            weights.groups(),
            optimizerManager);
    this.scaler = mixed ? LossScaler.of(config.spec().lossScaling) : LossScaler.none();
    this.clipping = new GradientClipping(config.spec().training.gradientClipNorm);
    this.objective = new Objective(train.kind());
    this.order = new DataOrder(train.samples(), config.seed());
    this.store = new ParameterStore(modelManager, false);
    this.totalSteps = config.steps(train.samples());
    // Numbers in recorded products go through GraphScalar: DJL's own would be freed memory by the
    // time backward reads them.
    this.lossWeight = GraphScalar.of(modelManager, 1f / config.globalBatch());
    Arrays.fill(recentLosses, Double.NaN);
  }

  public void addListener(TrainingListener listener) {
    listeners.add(listener);
  }

  /** Replaces the single-process gradient sync, e.g. with the replicas' all-reduce. */
  public void setGradientSync(GradientSync sync) {
    this.sync = sync;
  }

  public MasterWeights weights() {
    return weights;
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  public LossScaler scaler() {
    return scaler;
  }

  public DataOrder dataOrder() {
    return order;
  }

  public long parameters() {
    return parameters;
  }

  public long totalSteps() {
    return totalSteps;
  }

  /** Native arrays the session holds now: constant from step to step, or something leaks. */
  public int liveArrays() {
    return ((BaseNDManager) root).getManagedArrays().size();
  }

  /** Steps attempted so far. */
  public long step() {
    return step;
  }

  /** The step this run continued from, or null when it started fresh. */
  public Long resumedFromStep() {
    return resumedFromStep;
  }

  /** Steps skipped so far for inf/NaN gradients. */
  public long skippedSteps() {
    return skipped;
  }

  public RunConfig config() {
    return config;
  }

  /** The training split (the model's input shape and classes come from it). */
  public Dataset trainData() {
    return data.train();
  }

  /**
   * Continues a run from a checkpoint: the step count, skipped steps and data position. The caller
   * restores the master weights, optimizer state and loss scale in place (they are exposed as
   * arrays and plain values) and then calls {@code weights().copyToWorking()}.
   */
  public void restorePosition(long step, long skippedSteps, int epoch, int dataIndex) {
    this.step = step;
    this.skipped = skippedSteps;
    this.order = new DataOrder(data.train().samples(), config.seed(), epoch, dataIndex);
    this.resumedFromStep = step;
  }

  /**
   * Ends {@link #run} after the step in progress, once every listener has seen it: run() throws
   * {@code reason} instead of validating (e.g. SIGTERM, after the checkpoint of that step).
   */
  public void stopAfterThisStep(RuntimeException reason) {
    this.stopReason = reason;
  }

  /** Runs the remaining steps and the final validation; returns the summary listeners also get. */
  public RunSummary run() {
    long started = System.nanoTime();
    ProcessMemory.Reading beforeTraining = ProcessMemory.read();
    long fileRssBeforeTraining = beforeTraining.fileBytes();
    boolean peakReset = ProcessMemory.resetPeak();
    FirstStepMemory firstStep = FirstStepMemory.UNKNOWN;
    boolean stepReset = peakReset;
    long laterPeak = -1;
    long laterFileAdded = 0;
    long betweenStepsPeak = -1;
    long fileBeforeStep = -1;
    long stepsRun = 0;
    // Per step while the mark can be reset: one read of /proc/self/status after the step, one after
    // its listeners, and the reset.
    while (step < totalSteps) {
      StepResult result = computeStep();
      stepsRun++;
      // Each step's peak is read before its listeners run: what runs between steps (a
      // checkpoint's snapshot, host memory on any device) is not the step's and is not in the
      // steps' figures; the process's peak still has it.
      if (stepReset) {
        ProcessMemory.Reading afterStep = ProcessMemory.read();
        if (stepsRun == 1) {
          // The first step pages in libtorch's code and makes the gradients; the later steps are
          // measured from what it leaves resident.
          firstStep =
              new FirstStepMemory(
                  afterStep.peakBytes(),
                  fileRssBeforeTraining < 0 ? -1 : afterStep.fileBytes() - fileRssBeforeTraining,
                  afterStep.rssBytes(),
                  -1,
                  -1);
        } else {
          laterPeak = Math.max(laterPeak, afterStep.peakBytes());
          if (fileBeforeStep >= 0) {
            laterFileAdded += Math.max(0, afterStep.fileBytes() - fileBeforeStep);
          }
        }
      }
      publish(result);
      if (stepReset) {
        ProcessMemory.Reading afterListeners = ProcessMemory.read();
        betweenStepsPeak = Math.max(betweenStepsPeak, afterListeners.peakBytes());
        fileBeforeStep = afterListeners.fileBytes();
        stepReset = ProcessMemory.resetPeak();
      }
      if (stopReason != null) {
        throw stopReason;
      }
    }
    long trainingPeak = -1;
    if (firstStep.peakBytes() >= 0) {
      firstStep =
          new FirstStepMemory(
              firstStep.peakBytes(),
              firstStep.fileBytesAdded(),
              firstStep.rssAfterBytes(),
              stepsRun > 1 && stepReset ? laterPeak : -1,
              stepsRun > 1 && stepReset && fileRssBeforeTraining >= 0 ? laterFileAdded : -1);
      trainingPeak = Math.max(firstStep.peakBytes(), laterPeak);
    }
    Evaluation validation = evaluate(weights.working());
    double trainLoss =
        Arrays.stream(recentLosses).filter(Double::isFinite).average().orElse(Double.NaN);
    RunSummary summary =
        new RunSummary(
            config.precision().value(),
            step,
            skipped,
            scaler.scale(),
            trainLoss,
            validation,
            parameters,
            Math.max(
                Math.max(beforeTraining.peakBytes(), betweenStepsPeak),
                ProcessMemory.peakRssBytes()),
            beforeTraining.rssBytes(),
            trainingPeak,
            firstStep,
            (System.nanoTime() - started) / 1e9,
            resumedFromStep,
            lastParity);
    listeners.forEach(l -> l.onEnd(summary));
    return summary;
  }

  /** One optimizer step attempt, then its listeners (metrics, checkpoints). */
  public StepResult runStep() {
    StepResult result = computeStep();
    publish(result);
    return result;
  }

  /** One optimizer step attempt, without its listeners. */
  private StepResult computeStep() {
    recordNoGradient();
    step++;
    Engine.getInstance().setRandomSeed(stepSeed(config.seed(), step));
    long t0 = System.nanoTime();
    List<int[]> microBatches = config.microBatches(order.next(config.globalBatch()));
    double scale = scaler.scale();
    // Made outside the step's scope, which would close it at the end of the step.
    NDArray scaleOperand = scale == 1.0 ? null : scaleScalar(scale);
    boolean overflow;
    Double gradNorm = null;
    double loss = 0;
    long t1;
    long t2;
    long t3;
    long t4;
    DataType inputType = weights.workingType();
    try (NDManager stepManager = modelManager.newSubManager();
        NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      weights.zeroGradients();
      List<NDArray> microLosses = new ArrayList<>(microBatches.size());
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        for (int[] rows : microBatches) {
          long loading = System.nanoTime();
          NDArray x = data.train().inputBatch(stepManager, rows, inputType);
          NDArray y = data.train().targetBatch(stepManager, rows);
          Duration loaded = Duration.ofNanos(System.nanoTime() - loading);
          listeners.forEach(l -> l.onDataLoaded(step, loaded));
          NDArray output = weights.working().forward(store, new NDList(x), true).head();
          NDArray perSample = objective.perSampleLoss(output, y);
          Intermediates.release(output);
          NDArray sum = perSample.sum();
          NDArray microLoss = sum.mul(lossWeight);
          NDArray scaled = scaleOperand == null ? microLoss : microLoss.mul(scaleOperand);
          collector.backward(scaled);
          // The graph is gone with the backward pass: the micro-batch's arrays go before the next.
          // Its loss, a scalar, is read back with the gradient norms: one read-back per step.
          microLosses.add(microLoss);
          Intermediates.release(x, y, perSample, sum, scaled == microLoss ? null : scaled);
        }
      }
      t1 = System.nanoTime();
      List<NDArray> gradients = weights.workingGradients();
      // What the listeners want on the host goes with the losses into the step's one read-back.
      List<NDArray> alongside = new ArrayList<>(microLosses);
      int[] wanted = new int[listeners.size()];
      for (int i = 0; i < listeners.size(); i++) {
        TrainingListener l = listeners.get(i);
        l.afterBackward(step, gradients);
        List<NDArray> values = l.toReadBack(step, gradients);
        wanted[i] = values.size();
        alongside.addAll(values);
      }
      sync.reduce(gradients);
      // A flat group's gradients concatenated: one norm and one update per group.
      List<NDArray> grouped = weights.groupedGradients();
      UnscaledGradients unscaled = scaler.unscale(grouped, alongside);
      float[] read = unscaled.alongside();
      for (int i = 0; i < microLosses.size(); i++) {
        loss += read[i];
      }
      for (int i = 0, from = microLosses.size(); i < listeners.size(); from += wanted[i], i++) {
        if (wanted[i] > 0) {
          listeners.get(i).afterReadBack(step, Arrays.copyOfRange(read, from, from + wanted[i]));
        }
      }
      Intermediates.release(alongside.toArray(NDArray[]::new));
      loss = sync.totalLoss(loss);
      overflow = sync.anyOverflow(unscaled.nonFinite());
      t2 = System.nanoTime();
      if (!overflow) {
        gradNorm = unscaled.norm();
        float factor = (float) (unscaled.inverseScale() * clipping.factor(gradNorm));
        optimizer.step(weights.masterGroups(), unscaled.scaled(), factor);
      }
      t3 = System.nanoTime();
      if (!overflow) {
        weights.roundToWorking();
      }
      t4 = System.nanoTime();
    }
    scaler.update(overflow);
    if (overflow) {
      skipped++;
    }
    recentLosses[(int) (step % recentLosses.length)] = loss;
    double seconds = (System.nanoTime() - t0) / 1e9;
    ParityCheck parity = parityDue() ? checkParity() : null;
    StepResult result =
        new StepResult(
            step,
            loss,
            scale,
            overflow,
            gradNorm,
            config.globalBatch() / seconds,
            config.microBatch(),
            config.accumulation(),
            parity,
            new StepResult.Timings(
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9));
    return result;
  }

  /**
   * Hands a step's result to the listeners; throws {@link ParityFailure} if its parity check is out
   * of bounds and the job says to fail.
   */
  private void publish(StepResult result) {
    listeners.forEach(l -> l.onStep(result));
    ParityCheck parity = result.parity();
    ParitySpec.WorkingWeights spec = workingWeightsCheck();
    if (parity != null && !parity.withinBound() && spec.action == ParitySpec.Action.FAIL) {
      throw new ParityFailure(
          parity, spec.maxRelativeGap, config.spec().parity.workingWeightsField("maxRelativeGap"));
    }
  }

  /**
   * Turns libtorch's gradient recording off on the calling thread, as DJL does only on the thread
   * that loads the engine (libtorch records by default on every other thread): the in-place updates
   * of weights that take a gradient must not be recorded. The gradient collector of each step turns
   * it on and back off.
   */
  private static void recordNoGradient() {
    JniUtils.setGradMode(false);
  }

  /** The loss scale {@code scale} as a graph scalar, kept until the scale changes. */
  private NDArray scaleScalar(double scale) {
    if (scaleScalar == null || scaleScalarValue != (float) scale) {
      if (scaleScalar != null) {
        scaleScalar.close();
      }
      scaleScalar = GraphScalar.of(modelManager, (float) scale);
      scaleScalarValue = (float) scale;
    }
    return scaleScalar;
  }

  /**
   * Loss and accuracy of {@code block} (inference mode) on the validation split; on the training
   * split when validationFraction is 0.
   */
  public Evaluation evaluate(Block block) {
    Dataset validation = data.validation().samples() > 0 ? data.validation() : data.train();
    DataType inputType = firstParameterType(block);
    int n = validation.samples();
    double lossSum = 0;
    long correct = 0;
    long predictions = 0;
    for (int start = 0; start < n; start += EVALUATION_BATCH) {
      int[] rows = range(start, Math.min(n, start + EVALUATION_BATCH));
      try (NDManager batchManager = modelManager.newSubManager();
          NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray x = validation.inputBatch(batchManager, rows, inputType);
        NDArray y = validation.targetBatch(batchManager, rows);
        NDArray output = block.forward(store, new NDList(x), false).head();
        lossSum += objective.perSampleLoss(output, y).sum().getFloat();
        if (validation.hasClasses()) {
          correct += objective.correct(output, y);
          predictions += objective.predictions(y);
        }
      }
    }
    return new Evaluation(
        lossSum / n, validation.hasClasses() ? (double) correct / predictions : null);
  }

  private boolean parityDue() {
    ParitySpec.WorkingWeights spec = workingWeightsCheck();
    return spec != null && weights.isSeparate() && step % spec.intervalSteps == 0;
  }

  /** spec.parity's working-weights check, or null when off. */
  private ParitySpec.WorkingWeights workingWeightsCheck() {
    ParitySpec spec = config.spec().parity;
    return spec == null ? null : spec.workingWeightsCheck();
  }

  /** Loss and accuracy of the working weights (what the run trains) on the validation split. */
  public Evaluation evaluateWorking() {
    return evaluate(weights.working());
  }

  private ParityCheck checkParity() {
    weights.syncBuffersToMaster();
    double fp16 = evaluate(weights.working()).loss();
    double fp32 = evaluate(weights.master()).loss();
    lastParity = ParityCheck.of(step, fp16, fp32, workingWeightsCheck().maxRelativeGap);
    return lastParity;
  }

  /**
   * The engine's seed at a step: dropout of step s is the same in every run that reaches step s.
   */
  public static int stepSeed(long seed, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
    return (int) (z ^ (z >>> 29)) & 0x7fffffff;
  }

  private static DataType firstParameterType(Block block) {
    return block.getParameters().valueAt(0).getArray().getDataType();
  }

  private static int[] range(int from, int to) {
    int[] rows = new int[to - from];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = from + i;
    }
    return rows;
  }

  @Override
  public void close() {
    root.close();
  }
}
