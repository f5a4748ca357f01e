package dev.mpj.operator.metrics;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.SizingStatus;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * The operator's metrics about jobs, read from the informer's cache of MixedPrecisionJobs: jobs by
 * phase, and per job its restarts, reconcile errors and sizing. Values are read from the cache when
 * scraped; {@link #refresh()} makes the per-job series follow the jobs that exist, so a deleted
 * job's series go with it. docs/reference/metrics.md describes every name.
 */
public final class JobMetrics implements AutoCloseable {
  public static final String JOBS = "mpj.jobs";
  public static final String RESTARTS = "mpj.job.restarts";
  public static final String RECONCILE_ERRORS = "mpj.reconcile.errors";
  public static final String SIZING_BYTES = "mpj.job.sizing.bytes.per.replica";
  public static final String SIZING_GPUS = "mpj.job.sizing.gpus";
  public static final String SIZING_GPUS_SAVED = "mpj.job.sizing.gpus.saved";
  public static final String DISRUPTIONS = "mpj.disruptions";
  public static final String REFERENCE_WITHIN_BOUNDS = "mpj.job.parity.reference.within.bounds";
  public static final String REFERENCE_ACCURACY_DROP =
      "mpj.job.parity.reference.accuracy.drop.points";
  public static final String REFERENCE_VALIDATION_LOSS_GAP =
      "mpj.job.parity.reference.validation.loss.gap";
  public static final String REFERENCE_TRAINING_LOSS_GAP =
      "mpj.job.parity.reference.training.loss.gap";

  private final MeterRegistry registry;
  private volatile IndexedResourceCache<MixedPrecisionJob> cache;
  private final Map<ResourceID, Set<Meter.Id>> meters = new HashMap<>();
  private final Set<Meter.Id> phases = new HashSet<>();
  private final Set<Meter.Id> disruptions = new HashSet<>();

  public JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (JobPhase phase : JobPhase.values()) {
      phases.add(
          Gauge.builder(JOBS, this, m -> m.count(phase))
              .tag("phase", phase.name())
              .description("MixedPrecisionJobs in each phase, as the operator's informer sees them")
              .register(registry)
              .getId());
    }
  }

  /** The jobs to describe: the controller's own informer cache. Until then every count is 0. */
  public void watch(IndexedResourceCache<MixedPrecisionJob> jobs) {
    this.cache = jobs;
  }

  /**
   * A gang was disrupted (not by its own failure): counted by source and reason, for all jobs of
   * this operator, from its start.
   */
  public synchronized void disrupted(Disruption disruption) {
    Counter counter =
        Counter.builder(DISRUPTIONS)
            .tag("source", disruption.source())
            .tag("reason", disruption.reason())
            .description(
                "Gang disruptions that are not failures: pods Kubernetes disrupted (source pod) and"
                    + " Kueue evictions (source kueue), by reason")
            .register(registry);
    counter.increment();
    disruptions.add(counter.getId());
  }

  /** One reconcile of {@code job} ended in an exception. */
  public synchronized void reconcileFailed(MixedPrecisionJob job) {
    ResourceID id = ResourceID.fromResource(job);
    Counter errors = errors(id);
    errors.increment();
    meters.computeIfAbsent(id, k -> new HashSet<>()).add(errors.getId());
  }

  /**
   * Registers the series of every job in the cache and removes those of jobs that are gone. Call it
   * before each scrape: then the exposition lists exactly the jobs the informer holds.
   */
  public synchronized void refresh() {
    Map<ResourceID, MixedPrecisionJob> jobs = new LinkedHashMap<>();
    jobs().forEach(job -> jobs.put(ResourceID.fromResource(job), job));
    Map<ResourceID, Set<Meter.Id>> now = new HashMap<>();
    jobs.forEach((id, job) -> now.put(id, register(id, job)));
    meters.forEach(
        (id, old) ->
            old.stream()
                .filter(meter -> !now.getOrDefault(id, Set.of()).contains(meter))
                .forEach(registry::remove));
    meters.clear();
    meters.putAll(now);
  }

  /**
   * Removes every series of this operator's jobs: a registry outlives the operator in tests and mpj
   * local.
   */
  @Override
  public synchronized void close() {
    meters.values().forEach(ids -> ids.forEach(registry::remove));
    meters.clear();
    phases.forEach(registry::remove);
    disruptions.forEach(registry::remove);
    disruptions.clear();
    cache = null;
  }

  private Set<Meter.Id> register(ResourceID id, MixedPrecisionJob job) {
    Tags tags = tags(id);
    Set<Meter.Id> ids = new HashSet<>();
    // A counter that survives operator restarts: its value is status.restarts, which the API server
    // keeps, and which only grows for the life of the job.
    ids.add(
        once(
            RESTARTS,
            tags,
            () ->
                FunctionCounter.builder(
                        RESTARTS, this, m -> m.status(id, s -> Optional.of(s.restarts)))
                    .tags(tags)
                    .description("Gang restarts after a replica failed (status.restarts)")
                    .register(registry)));
    ids.add(errors(id).getId());
    ids.addAll(referenceParity(id, tags, job));
    SizingStatus sizing = job.getStatus() == null ? null : job.getStatus().sizing;
    if (sizing == null) {
      return ids;
    }
    for (SizingStatus.PrecisionPlan plan : plans(sizing).values()) {
      Tags precision = tags.and("precision", plan.precision);
      if (plan.bytesPerReplica != null) {
        ids.add(
            gauge(
                SIZING_BYTES,
                precision,
                "Predicted peak GPU memory of one replica in bytes, per precision (status.sizing)",
                m -> m.plan(id, plan.precision, p -> p.bytesPerReplica)));
      }
      if (plan.gpus != null) {
        ids.add(
            gauge(
                SIZING_GPUS,
                precision,
                "GPUs the plan takes, per precision (status.sizing)",
                m -> m.plan(id, plan.precision, p -> p.gpus)));
      }
    }
    if (sizing.gpusSaved != null) {
      ids.add(
          gauge(
              SIZING_GPUS_SAVED,
              tags,
              "GPUs the job's precision saves against FP32 (status.sizing.gpusSaved)",
              m -> m.status(id, s -> sizing(s).map(z -> z.gpusSaved))));
    }
    return ids;
  }

  /**
   * Reference parity's verdict and gaps (status.parity.reference), once the job compared its run
   * with the FP32 reference; a gap the comparison has not (accuracy of a regression task) is
   * absent.
   */
  private Set<Meter.Id> referenceParity(ResourceID id, Tags tags, MixedPrecisionJob job) {
    Set<Meter.Id> ids = new HashSet<>();
    ReferenceParityStatus compared = compared(job.getStatus()).orElse(null);
    if (compared == null || compared.withinBounds == null) {
      return ids;
    }
    ids.add(
        gauge(
            REFERENCE_WITHIN_BOUNDS,
            tags,
            "1 when the job's run is within every reference-parity threshold at the compared step,"
                + " 0 when one is exceeded (status.parity.reference.withinBounds)",
            m -> m.status(id, s -> compared(s).map(r -> r.withinBounds ? 1 : 0))));
    if (compared.accuracyDropPoints != null) {
      ids.add(
          gauge(
              REFERENCE_ACCURACY_DROP,
              tags,
              "FP32 reference accuracy minus the job's, in percentage points"
                  + " (status.parity.reference.accuracyDropPoints)",
              m -> m.status(id, s -> compared(s).map(r -> r.accuracyDropPoints))));
    }
    if (compared.validationLossGap != null) {
      ids.add(
          gauge(
              REFERENCE_VALIDATION_LOSS_GAP,
              tags,
              "Relative validation-loss gap to the FP32 reference"
                  + " (status.parity.reference.validationLossGap)",
              m -> m.status(id, s -> compared(s).map(r -> r.validationLossGap))));
    }
    if (compared.trainingLossGap != null) {
      ids.add(
          gauge(
              REFERENCE_TRAINING_LOSS_GAP,
              tags,
              "Relative gap of the window's mean training loss to the FP32 reference"
                  + " (status.parity.reference.trainingLossGap)",
              m -> m.status(id, s -> compared(s).map(r -> r.trainingLossGap))));
    }
    return ids;
  }

  /** status.parity.reference once it holds a comparison. */
  private static Optional<ReferenceParityStatus> compared(MixedPrecisionJobStatus status) {
    return Optional.ofNullable(status)
        .map(s -> s.parity)
        .map(p -> p.reference)
        .filter(r -> ReferenceParityStatus.COMPARED.equals(r.phase) && r.withinBounds != null);
  }

  private Meter.Id gauge(
      String name, Tags tags, String description, ToDoubleFunction<JobMetrics> value) {
    return once(
        name,
        tags,
        () ->
            Gauge.builder(name, this, value)
                .tags(tags)
                .description(description)
                .register(registry));
  }

  /**
   * Registers a function meter unless it is there: Micrometer would keep the old one anyway, and
   * warn.
   */
  private Meter.Id once(String name, Tags tags, Supplier<Meter> register) {
    Meter existing = registry.find(name).tags(tags).meter();
    return (existing != null ? existing : register.get()).getId();
  }

  private Counter errors(ResourceID id) {
    return Counter.builder(RECONCILE_ERRORS)
        .tags(tags(id))
        .description("Reconciles of the job that ended in an error (each is retried with backoff)")
        .register(registry);
  }

  /** The plans status.sizing records, by precision: the job's own, and FP32 beside it. */
  private static Map<String, SizingStatus.PrecisionPlan> plans(SizingStatus sizing) {
    Map<String, SizingStatus.PrecisionPlan> plans = new LinkedHashMap<>();
    Stream.of(sizing.plan, sizing.fp32)
        .filter(p -> p != null && p.precision != null)
        .forEach(p -> plans.putIfAbsent(p.precision, p));
    return plans;
  }

  private double count(JobPhase phase) {
    // A job the operator has not written a status for yet is Pending, as JobStatuses makes it.
    return jobs()
        .filter(
            job ->
                phase
                    == Optional.ofNullable(job.getStatus())
                        .map(s -> s.phase)
                        .orElse(JobPhase.Pending))
        .count();
  }

  private double plan(
      ResourceID id, String precision, Function<SizingStatus.PrecisionPlan, Number> figure) {
    return status(id, s -> sizing(s).map(z -> plans(z).get(precision)).map(figure));
  }

  private static Optional<SizingStatus> sizing(MixedPrecisionJobStatus status) {
    return Optional.ofNullable(status.sizing);
  }

  /**
   * A figure of the cached job's status; NaN while the job or the figure is missing (until the next
   * refresh).
   */
  private double status(
      ResourceID id, Function<MixedPrecisionJobStatus, Optional<? extends Number>> figure) {
    var jobs = cache;
    if (jobs == null) {
      return Double.NaN;
    }
    return jobs.get(id)
        // A job without a status yet has the figures of an empty one: no restarts, no sizing.
        .map(job -> Optional.ofNullable(job.getStatus()).orElseGet(MixedPrecisionJobStatus::new))
        .flatMap(figure)
        .map(Number::doubleValue)
        .orElse(Double.NaN);
  }

  private Stream<MixedPrecisionJob> jobs() {
    var jobs = cache;
    return jobs == null ? Stream.empty() : jobs.list();
  }

  private static Tags tags(ResourceID id) {
    return Tags.of("job_name", id.getName(), "namespace", id.getNamespace().orElse(""));
  }
}
