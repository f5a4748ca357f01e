package dev.mpj.trainer.metrics;

import ai.djl.ndarray.NDArray;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.health.HealthWatch;
import dev.mpj.trainer.health.TrainingHealth;
import dev.mpj.trainer.loop.ParityCheck;
import dev.mpj.trainer.loop.ProcessMemory;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * One replica's Prometheus metrics (docs/reference/metrics.md, "Trainer") and the figures of its
 * {@code /progress}. As a {@link TrainingListener} it follows every step attempt; the other parts
 * of the trainer report through the hooks {@link #allReduce}, {@link #dataLoading}, {@link
 * #checkpointPublished} and {@link #resumedFrom}. It follows the run's {@link TrainingHealth} too
 * (its gauges, {@code health} in /progress). Thread-safe: the loop writes, HTTP threads read.
 */
public final class TrainerMetrics implements TrainingListener {
  private static final double[] STEP_BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };
  private static final double[] CHECKPOINT_BUCKETS = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300
  };

  /**
   * The figures of the last step attempt, replaced whole so that a reader sees one step's values;
   * samplesPerSecond is the job's (the global batch over the step's time), as in metrics.jsonl.
   */
  private record LastStep(
      long step,
      double loss,
      double lossScale,
      double gradNorm,
      double samplesPerSecond,
      long skippedSteps) {}

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /**
   * Micrometer adds a decaying "_max" gauge to every histogram; not part of the contract, so not
   * served.
   */
  private final Set<String> notServed = ConcurrentHashMap.newKeySet();

  private final long totalSteps;
  private final double shareOfGlobalBatch;
  private final Timer stepDuration;
  private final Timer allReduce;
  private final Timer dataLoading;
  private final Counter overflowSteps;
  private final Counter skippedSteps;
  private volatile LastStep last;
  private volatile ParityCheck parity;
  private volatile CheckpointRecord lastCheckpoint;
  private volatile dev.mpj.api.ReferenceParityStatus referenceParity;
  private final HealthWatch healthWatch;

  /**
   * @param totalSteps optimizer steps of the whole run ({@code RunConfig.steps})
   */
  public TrainerMetrics(JobLabels labels, RunConfig config, long totalSteps) {
    this.totalSteps = totalSteps;
    int shard =
        config.microBatches(new int[config.globalBatch()]).stream()
            .mapToInt(rows -> rows.length)
            .sum();
    this.shareOfGlobalBatch = (double) shard / config.globalBatch();
    this.last = new LastStep(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
    this.healthWatch = new HealthWatch(config);
    registry
        .config()
        .commonTags(
            "job_name",
            labels.jobName(),
            "namespace",
            labels.namespace(),
            "replica",
            Integer.toString(labels.replica()));

    stepDuration =
        histogram(
            "mpj.trainer.step.duration",
            STEP_BUCKETS,
            "Wall time of one optimizer step attempt: forward, backward, unscale and check, all-reduce, update");
    allReduce =
        histogram(
            "mpj.trainer.allreduce.duration",
            STEP_BUCKETS,
            "Time of one gradient all-reduce across the replicas");
    dataLoading =
        histogram(
            "mpj.trainer.data.loading.duration",
            STEP_BUCKETS,
            "Time to assemble one micro-batch from the data set");
    overflowSteps =
        Counter.builder("mpj.trainer.overflow.steps")
            .baseUnit("steps")
            .description("Steps whose unscaled gradients held inf or NaN")
            .register(registry);
    skippedSteps =
        Counter.builder("mpj.trainer.skipped.steps")
            .baseUnit("steps")
            .description("Steps whose update was skipped")
            .register(registry);
    gauge("mpj.trainer.step", "Optimizer steps done, skipped ones included", m -> m.last.step);
    gauge(
        "mpj.trainer.loss",
        "Training loss of the last step, FP32, before loss scaling",
        m -> m.last.loss);
    gauge("mpj.trainer.loss.scale", "Loss scale used for the last step", m -> m.last.lossScale);
    gauge(
        "mpj.trainer.grad.norm",
        "L2 norm of the unscaled gradients of the last applied step, before clipping",
        m -> m.last.gradNorm);
    gauge(
        "mpj.trainer.samples.per.second",
        "Samples this replica trained on per second over its last step",
        m -> m.last.samplesPerSecond * m.shareOfGlobalBatch);
    gauge(
        "mpj.trainer.healthy",
        "1 while the run is healthy (the TrainingHealthy condition), 0 while a reason holds",
        m -> m.health().healthy() ? 1 : 0);
    gauge(
        "mpj.trainer.loss.scale.at.minimum",
        "1 while the health window holds an overflow at the dynamic loss scale's minScale",
        m -> m.health().lossScaleAtMinimum() ? 1 : 0);
    gauge(
        "mpj.trainer.skipped.steps.window.ratio",
        "Skipped steps over the step attempts of the health window",
        m -> m.health().skippedFraction());
    TrainingHealth health = healthWatch.health();
    FunctionCounter.builder("mpj.trainer.nonfinite.loss", health, h -> h.nonFiniteLossSteps())
        .baseUnit("steps")
        .description("Step attempts whose FP32 training loss was inf or NaN")
        .register(registry);
    FunctionCounter.builder("mpj.trainer.gradient.underflow", health, h -> h.underflowSteps())
        .baseUnit("steps")
        .description("Applied fp16-mixed steps on which a parameter's FP16 gradient was all zero")
        .register(registry);
    Gauge.builder(
            "mpj.trainer.process.memory",
            () -> {
              long rss = ProcessMemory.rssBytes();
              return rss < 0 ? Double.NaN : rss;
            })
        .baseUnit("bytes")
        .description("Resident set size of the trainer process (VmRSS)")
        .register(registry);
    if (labels.replica() == 0) {
      // Rank 0 writes the checkpoints: its series exist (at 0) before the first one.
      checkpointWrite();
      checkpointBytes();
      checkpointsFailedForSpace();
    }
  }

  @Override
  public List<NDArray> toReadBack(long step, List<NDArray> gradients) {
    return healthWatch.toReadBack(step, gradients);
  }

  @Override
  public void afterReadBack(long step, float[] values) {
    healthWatch.afterReadBack(step, values);
  }

  @Override
  public void onStep(StepResult s) {
    healthWatch.onStep(s);
    StepResult.Timings t = s.timings();
    stepDuration.record(
        seconds(t.forwardBackward() + t.unscaleAndCheck() + t.update() + t.copyBack()));
    if (s.overflow()) {
      overflowSteps.increment();
    }
    if (s.overflow()) {
      skippedSteps.increment();
    }
    LastStep before = last;
    double gradNorm = s.gradNorm() != null ? s.gradNorm() : before.gradNorm;
    last =
        new LastStep(
            s.step(),
            s.loss(),
            s.lossScale(),
            gradNorm,
            s.samplesPerSecond(),
            before.skippedSteps + (s.overflow() ? 1 : 0));
    if (s.parity() != null) {
      parity = s.parity();
      gauge(
          "mpj.trainer.parity.relative.gap",
          "Relative gap between the FP16 and the FP32 validation loss at the last parity check",
          m -> m.parity.relativeGap());
    }
  }

  @Override
  public void onDataLoaded(long step, Duration elapsed) {
    dataLoading(elapsed);
  }

  /** Hook: one micro-batch was assembled from the data set. */
  public void dataLoading(Duration elapsed) {
    dataLoading.record(elapsed);
  }

  /** Hook: one gradient all-reduce across the replicas took {@code elapsed}. */
  public void allReduce(Duration elapsed) {
    allReduce.record(elapsed);
  }

  /**
   * Hook: a complete checkpoint was published (rank 0).
   *
   * @param time when it was published
   * @param path its folder on the checkpoint volume
   * @param bytes the bytes of its files
   * @param writeSeconds from the start of writing to publication
   */
  public void checkpointPublished(
      long step, Instant time, String path, long bytes, double writeSeconds) {
    checkpointWrite().record(seconds(writeSeconds));
    checkpointBytes().increment(bytes);
    lastCheckpoint = new CheckpointRecord(step, time, path);
  }

  /** Hook: the checkpoint of a step was not written because its volume was full (rank 0). */
  public void checkpointFailedForSpace(long step) {
    checkpointsFailedForSpace().increment();
  }

  /**
   * Hook: the run continues from a checkpoint taken after {@code step}, with {@code skippedSteps}
   * skipped before it.
   */
  public void resumedFrom(long step, long skippedSteps) {
    LastStep before = last;
    last =
        new LastStep(
            step,
            before.loss,
            before.lossScale,
            before.gradNorm,
            before.samplesPerSecond,
            skippedSteps);
  }

  /** The run's health after the last step attempt. */
  public TrainingHealth.Assessment health() {
    return healthWatch.health().assessment();
  }

  /**
   * What {@code GET /progress} answers (the operator's ProgressReport reads it): step, totalSteps,
   * loss, lossScale, skippedSteps, samplesPerSecond (the job's, all replicas), and lastCheckpoint
   * and parity once there are any, and health. Numbers that are not finite, or not known yet, are
   * null.
   */
  public Map<String, Object> progress() {
    LastStep s = last;
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("step", s.step);
    p.put("totalSteps", totalSteps);
    p.put("loss", finite(s.loss));
    p.put("lossScale", finite(s.lossScale));
    p.put("skippedSteps", s.skippedSteps);
    p.put("samplesPerSecond", finite(s.samplesPerSecond));
    CheckpointRecord checkpoint = lastCheckpoint;
    if (checkpoint != null) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("step", checkpoint.step());
      c.put("time", checkpoint.time().toString());
      c.put("path", checkpoint.path());
      p.put("lastCheckpoint", c);
    }
    ParityCheck check = parity;
    if (check != null) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("step", check.step());
      c.put("fp16Loss", finite(check.fp16Loss()));
      c.put("fp32Loss", finite(check.fp32Loss()));
      c.put("relativeGap", finite(check.relativeGap()));
      c.put("withinBound", check.withinBound());
      p.put("parity", c);
    }
    p.put("health", health(health()));
    if (referenceParity != null) {
      p.put("referenceParity", referenceParity);
    }
    return p;
  }

  /** Reference parity at its step (spec.parity.reference), for /progress from then on. */
  public void referenceParity(dev.mpj.api.ReferenceParityStatus status) {
    this.referenceParity = status;
  }

  /** The health as /progress, metrics.jsonl and summary.json write it. */
  public static Map<String, Object> health(TrainingHealth.Assessment a) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("step", a.step());
    h.put("healthy", a.healthy());
    h.put("reasons", a.reasonNames());
    h.put("message", a.message());
    h.put("stepsInWindow", a.stepsInWindow());
    h.put("skippedStepsInWindow", a.skippedStepsInWindow());
    return h;
  }

  /** The metrics in the Prometheus text format, version 0.0.4. */
  public String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create()
          .write(out, registry.getPrometheusRegistry().scrape(name -> !notServed.contains(name)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private Timer checkpointWrite() {
    return histogram(
        "mpj.trainer.checkpoint.write.duration",
        CHECKPOINT_BUCKETS,
        "Time to write one complete checkpoint (weights, optimizer state, state.json)");
  }

  private Counter checkpointsFailedForSpace() {
    return Counter.builder("mpj.trainer.checkpoint.failed.space")
        .baseUnit("checkpoints")
        .description(
            "Checkpoints not written because the volume was full (ENOSPC or quota); training went on")
        .register(registry);
  }

  private Counter checkpointBytes() {
    return Counter.builder("mpj.trainer.checkpoint")
        .baseUnit("bytes")
        .description("Bytes of checkpoint files written")
        .register(registry);
  }

  /**
   * A timer exported as a Prometheus histogram with these bucket bounds (seconds); registering
   * again returns the same.
   */
  private Timer histogram(String name, double[] bucketSeconds, String description) {
    Timer timer =
        Timer.builder(name)
            .description(description)
            .serviceLevelObjectives(
                Arrays.stream(bucketSeconds)
                    .mapToObj(TrainerMetrics::seconds)
                    .toArray(Duration[]::new))
            .register(registry);
    notServed.add(name.replace('.', '_') + "_seconds_max");
    return timer;
  }

  private void gauge(String name, String description, ToDoubleFunction<TrainerMetrics> value) {
    Gauge.builder(name, this, value)
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  private static Duration seconds(double seconds) {
    return Duration.ofNanos(Math.round(seconds * 1e9));
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
