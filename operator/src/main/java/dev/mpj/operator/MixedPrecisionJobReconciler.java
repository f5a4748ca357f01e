package dev.mpj.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.Crd;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.RunPolicySpec;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.operator.events.EventRecorder;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.gang.BesideParity;
import dev.mpj.operator.gang.ClusterObserver;
import dev.mpj.operator.gang.GangPlanner;
import dev.mpj.operator.gang.JobEvents;
import dev.mpj.operator.gang.JobStatuses;
import dev.mpj.operator.gang.Observation;
import dev.mpj.operator.gang.Replica;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.metrics.Disruption;
import dev.mpj.operator.metrics.JobMetrics;
import dev.mpj.operator.progress.ProgressPoller;
import dev.mpj.operator.progress.ProgressReport;
import dev.mpj.operator.queue.Admission;
import dev.mpj.operator.queue.Admissions;
import dev.mpj.operator.queue.GangGroups;
import dev.mpj.operator.queue.Integrations;
import dev.mpj.operator.queue.KueueQueue;
import dev.mpj.operator.queue.PodGroups;
import dev.mpj.operator.queue.QueueStep;
import dev.mpj.operator.queue.Workloads;
import dev.mpj.operator.resources.AttemptSpec;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.resources.JobResources;
import dev.mpj.operator.resources.ReferenceGang;
import dev.mpj.operator.resources.ReplicaPods;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.Sizer;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.dependent.RecentOperationCacheFiller;
import io.javaoperatorsdk.operator.processing.GroupVersionKind;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * Orchestrates one job: observe (its pods, the spec's violations) → decide ({@link GangPlanner}) →
 * act (stop, create, delete) → record status and Events. It decides nothing itself.
 */
public final class MixedPrecisionJobReconciler implements Reconciler<MixedPrecisionJob> {
  /** How soon to look again while a job waits on something no event announces (capacity). */
  static final Duration RETRY_SIZING = Duration.ofSeconds(30);

  /** The informer event source of the jobs' replica pods. */
  static final String REPLICA_PODS = "replica-pods";

  private final Sizer sizer;
  private final ClusterObserver cluster;
  private final JobResources resources;
  private final EventRecorder events;
  private final ProgressPoller progress;
  private final JobMetrics metrics;
  private final OperatorSettings settings;
  private final Clock clock;
  private final Integrations integrations;
  private final ReferenceGangRun referenceGang;

  public MixedPrecisionJobReconciler(
      Sizer sizer,
      ClusterObserver cluster,
      JobResources resources,
      EventRecorder events,
      ProgressPoller progress,
      JobMetrics metrics,
      OperatorSettings settings,
      Clock clock) {
    this(sizer, cluster, resources, events, progress, metrics, settings, clock, Integrations.NONE);
  }

  public MixedPrecisionJobReconciler(
      Sizer sizer,
      ClusterObserver cluster,
      JobResources resources,
      EventRecorder events,
      ProgressPoller progress,
      JobMetrics metrics,
      OperatorSettings settings,
      Clock clock,
      Integrations integrations) {
    this.integrations = integrations;
    this.sizer = sizer;
    this.cluster = cluster;
    this.resources = resources;
    this.events = events;
    this.progress = progress;
    this.metrics = metrics;
    this.settings = settings;
    this.clock = clock;
    this.referenceGang = new ReferenceGangRun(sizer, cluster, resources, events, settings);
  }

  @Override
  public List<EventSource<?, MixedPrecisionJob>> prepareEventSources(
      EventSourceContext<MixedPrecisionJob> context) {
    // The job metrics describe the jobs as this controller's informer holds them.
    metrics.watch(context.getPrimaryCache());
    var pods =
        InformerEventSourceConfiguration.from(Pod.class, MixedPrecisionJob.class)
            .withName(REPLICA_PODS)
            .withLabelSelector(Crd.LABEL_JOB_NAME)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(MixedPrecisionJob.class))
            .withNamespacesInheritedFromController()
            .build();
    List<EventSource<?, MixedPrecisionJob>> sources = new ArrayList<>();
    sources.add(new InformerEventSource<>(pods, context));
    if (integrations.kueue()) {
      // Kueue's admission and eviction arrive as changes of the job's Workload: watched, not
      // polled.
      var workloads =
          InformerEventSourceConfiguration.from(
                  new GroupVersionKind(Workloads.GROUP, Workloads.VERSION, "Workload"),
                  MixedPrecisionJob.class)
              .withName("kueue-workloads")
              .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(MixedPrecisionJob.class))
              .withNamespacesInheritedFromController()
              .build();
      sources.add(new InformerEventSource<>(workloads, context));
    }
    return sources;
  }

  @Override
  public UpdateControl<MixedPrecisionJob> reconcile(
      MixedPrecisionJob cached, Context<MixedPrecisionJob> context) {
    if (context.isPrimaryResourceDeleted()) {
      // The children go with the job (owner references); only what is kept in memory is left.
      forget(cached);
      return UpdateControl.noUpdate();
    }
    try {
      return reconcileJob(cached, context);
    } catch (RuntimeException e) {
      metrics.reconcileFailed(cached);
      throw e;
    }
  }

  private UpdateControl<MixedPrecisionJob> reconcileJob(
      MixedPrecisionJob job, Context<MixedPrecisionJob> context) {
    Instant now = clock.instant();
    // Read from the informers' caches, not the API server: the job as JOSDK hands it, its pods from
    // the replica-pods event source. Decisions count restarts, so neither cache may lag behind what
    // this operator did itself: the status it wrote last is put into the job's cache with the API
    // server's answer (writeStatus), the pods it created into the pods' cache (createPods); and
    // every status write is conditional on the resourceVersion read here, so a decision made on a
    // job that changed since (a change the cache has not seen) is refused (409) and made again on
    // the newer job. Pods it deleted may still show: they are stopped again (no-op) or waited for.
    List<Pod> allPods = ownPods(job, context);
    // schedule beside's FP32 reference gang is driven apart (ReferenceGangRun).
    List<Pod> pods = ReferenceGang.jobPods(allPods);
    List<Pod> referencePods = ReferenceGang.referencePods(allPods);
    KueueQueue kueue = new KueueQueue(context.getClient());
    GangGroups gangs = new GangGroups(context.getClient());
    Admission admission = queued(job) ? Admission.of(kueue.workload(job)) : null;
    List<Replica> replicas = pods.stream().map(Replica::of).toList();
    Observation observation =
        new Observation(job, replicas, now, SpecValidator.validate(job), admission);
    Verdict verdict = GangPlanner.decide(observation);
    String noGangScheduler = PodGroups.unavailable(job, integrations);
    if (noGangScheduler != null && verdict instanceof Verdict.Start s && s.isNew()) {
      verdict = new Verdict.Fail(PodGroups.UNAVAILABLE, noGangScheduler, List.of());
    }

    ReferenceGangRun.Step reference =
        reference(job, verdict, observation, pods, referencePods, now, context);

    resources.stopPods(job.getMetadata().getNamespace(), verdict.podsToStop());
    if (verdict instanceof Verdict.Finished finished
        && finished.deleteAt() != null
        && !now.isBefore(finished.deleteAt())) {
      resources.deleteJobAndOwned(job);
      progress.forget(key(job));
      events.record(job, JobEvent.normal("Deleted", "runPolicy.ttlSecondsAfterFinished expired"));
      return UpdateControl.noUpdate();
    }
    SizingPlan plan =
        verdict instanceof Verdict.Start start
            ? (start.isNew() && reference != null && reference.holdJob() != null
                ? reference.holdJob()
                : start(job, start, admission, kueue, gangs, reference, context))
            : null;
    if (admission != null) {
      QueueStep step =
          QueueStep.next(
              admission, replicas, verdict, job.getStatus() == null ? null : job.getStatus().phase);
      if (step instanceof QueueStep.Create) {
        createWorkload(job, kueue);
      } else {
        kueue.apply(job, step, now);
      }
    }
    // While training, and in the reconcile that ends an attempt: rank 0's final report lands then.
    boolean reporting =
        verdict instanceof Verdict.Observe
            || verdict instanceof Verdict.Succeed
            || verdict instanceof Verdict.Fail
            || verdict instanceof Verdict.Restart;
    ProgressReport report = reporting ? readProgress(job, pods, now, key(job)) : null;
    BesideParity.Outcome beside = null;
    if (reference != null) {
      beside = BesideParity.next(job, reference.gang(), reference.figures(), report, verdict);
      Verdict decided = BesideParity.verdict(verdict, beside, replicas);
      if (decided != verdict) {
        resources.stopPods(job.getMetadata().getNamespace(), decided.podsToStop());
        verdict = decided;
      }
    }

    MixedPrecisionJobStatus before = job.getStatus();
    MixedPrecisionJobStatus after = JobStatuses.next(job, verdict, plan, report, now);
    if (beside != null) {
      BesideParity.record(after, beside, verdict, now, job.getMetadata().getGeneration());
    }
    for (JobEvent event : JobEvents.of(before, after, verdict, plan)) {
      // Once per occurrence: if the status write below fails, the reconcile that runs again
      // decides the same and must not repeat its Events.
      events.record(job, event, JobEvents.occurrence(job, after));
    }
    if (after.phase.isFinished()) {
      progress.forget(key(job));
      progress.forget(key(job) + "/reference");
    }

    if (!sameStatus(before, after)) {
      // Not UpdateControl.patchStatus: JOSDK 5.2.3 does not put what that write returns into the
      // job's cache, so the next reconcile could decide on the status before it.
      MixedPrecisionJob written =
          resources.writeStatus(
              job,
              after,
              settings.serverSideApply(),
              context.getControllerConfiguration().fieldManager());
      context
          .eventSourceRetriever()
          .getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(job), written, job);
    }
    Disruption.of(before, verdict, admission).ifPresent(metrics::disrupted);
    UpdateControl<MixedPrecisionJob> control = UpdateControl.noUpdate();
    Duration wake = nextWake(job, verdict, after, plan, now, settings.progressInterval());
    if (reference != null && reference.wake() != null) {
      wake = wake == null || reference.wake().compareTo(wake) < 0 ? reference.wake() : wake;
    }
    return wake == null ? control : control.rescheduleAfter(wake);
  }

  /**
   * schedule beside: one reconcile of the FP32 reference gang, before the job's own gang acts; null
   * when the job runs none (its leftover pods are stopped) or its spec is invalid.
   */
  private ReferenceGangRun.Step reference(
      MixedPrecisionJob job,
      Verdict verdict,
      Observation observation,
      List<Pod> pods,
      List<Pod> referencePods,
      Instant now,
      Context<MixedPrecisionJob> context) {
    if (verdict instanceof Verdict.InvalidSpec) {
      return null;
    }
    if (!ReferenceGang.beside(job) || verdict instanceof Verdict.Finished) {
      referenceGang.stop(job, referencePods);
      return null;
    }
    return referenceGang.reconcile(
        job,
        referencePods,
        pods,
        observation.violations(),
        this::readProgress,
        created -> createPods(context, created),
        now);
  }

  /**
   * Sizes a new attempt and creates its pods, or creates the missing pods of the current one. A job
   * Kueue admitted is sized at the admitted count, on the nodes of the assigned flavors, and its
   * pods go there.
   */
  private SizingPlan start(
      MixedPrecisionJob job,
      Verdict.Start start,
      Admission admission,
      KueueQueue kueue,
      GangGroups gangs,
      ReferenceGangRun.Step reference,
      Context<MixedPrecisionJob> context) {
    Workloads.Placement placement =
        admission == null ? Workloads.Placement.ANYWHERE : kueue.placement(admission);
    if (!start.isNew()) {
      createPods(
          context,
          start.missingRanks().stream()
              .map(
                  rank ->
                      PodGroups.join(
                          job,
                          placement.apply(
                              ReplicaPods.desired(
                                  job, start.attempt(), start.worldSize(), rank, settings))))
              .toList());
      return null;
    }
    // After an FP32 fallback the attempt is sized, as it trains, in FP32.
    MixedPrecisionJob sized =
        admission == null ? job : Admissions.admitted(job, admission, placement);
    // Beside the FP32 reference gang, its GPUs are taken too.
    SizingPlan plan =
        sizer.plan(
            AttemptSpec.of(sized),
            cluster.capacityFor(sized).less(reference == null ? 0 : reference.gpusHeld()));
    if (!plan.fits()) {
      return plan;
    }
    resources.ensureChildren(job, plan, settings.coordinatorPort());
    List<Pod> pods =
        IntStream.range(0, plan.replicas())
            .mapToObj(
                rank ->
                    PodGroups.join(
                        job,
                        placement.apply(
                            ReplicaPods.desired(
                                job, start.attempt(), plan.replicas(), rank, settings))))
            .toList();
    // The gang's PodGroup holds the new count before its pods exist.
    gangs.ensure(job, plan.replicas(), pods.get(0));
    createPods(context, pods);
    return plan;
  }

  /**
   * The job's replica pods of every attempt, by name, from the replica-pods informer: the pods it
   * saw, and those this operator created since (JOSDK keeps them until the informer has them).
   */
  private static List<Pod> ownPods(MixedPrecisionJob job, Context<MixedPrecisionJob> context) {
    return context.getSecondaryResources(Pod.class).stream()
        .filter(pod -> JobChildren.ownedBy(pod, job))
        .sorted(Comparator.comparing(pod -> pod.getMetadata().getName()))
        .toList();
  }

  /**
   * Creates the pods and hands each one the API server created to the pods' informer, so that the
   * next reconcile sees it even before its watch event arrives (and does not create it again).
   */
  private void createPods(Context<MixedPrecisionJob> context, List<Pod> pods) {
    var cache =
        (RecentOperationCacheFiller<Pod>)
            context.eventSourceRetriever().getEventSourceFor(Pod.class, REPLICA_PODS);
    for (Pod created : resources.createPods(pods)) {
      cache.handleRecentResourceCreate(ResourceID.fromResource(created), created);
    }
  }

  /**
   * The job's Workload: one pod set that asks for replicas.max (when the global batch divides over
   * that many) and accepts, by partial admission, down to the fewest replicas the sizing allows;
   * the pod the sizing chose. Quota is Kueue's to judge, so free GPUs do not bound the count.
   */
  private void createWorkload(MixedPrecisionJob job, KueueQueue kueue) {
    ClusterCapacity capacity = ClusterCapacity.unknown();
    SizingPlan fewest = sizer.plan(job.getSpec(), capacity);
    int max = job.getSpec().replicas.max;
    MixedPrecisionJob atMax =
        Admissions.admitted(
            job,
            new Admission(true, true, true, false, null, null, max, List.of(), false),
            Workloads.Placement.ANYWHERE);
    SizingPlan most = sizer.plan(atMax.getSpec(), capacity);
    int min = fewest.fits() ? fewest.replicas() : job.getSpec().replicas.min;
    int count = most.fits() ? most.replicas() : Math.max(min, fewest.replicas());
    kueue.create(job, ReplicaPods.desired(job, 1, count, 0, settings), count, Math.min(min, count));
  }

  /**
   * The newest progress rank 0 reported: its final report once its container terminated with one,
   * else the last poll; and a new poll in the background for the next reconcile while it runs.
   */
  private ProgressReport readProgress(
      MixedPrecisionJob job, List<Pod> pods, Instant now, String key) {
    int attempt = pods.stream().mapToInt(p -> Replica.of(p).attempt()).max().orElse(0);
    Optional<Pod> rank0 =
        pods.stream()
            .filter(p -> Replica.of(p).rank() == 0 && Replica.of(p).attempt() == attempt)
            .findFirst();
    rank0
        .filter(p -> Replica.of(p).running())
        .flatMap(p -> ProgressPoller.endpoint(p, settings.trainerMetricsPort()))
        .ifPresent(
            uri -> {
              String token = resources.token(job);
              if (token != null) {
                progress.refresh(key, uri, token);
              }
            });
    ProgressReport finalReport = rank0.flatMap(p -> ProgressReport.terminated(p, now)).orElse(null);
    return ProgressReport.newest(progress.latest(key).orElse(null), finalReport);
  }

  /**
   * When to reconcile again without an event, or null: a job waiting for GPUs is re-sized every
   * {@link #RETRY_SIZING}; one that does not fit or whose batch does not split waits for a spec
   * change (its generation bump is an event), since each re-size lists every node and pod. A job
   * that waits for Kueue wakes when its Workload changes (an event source), not on a timer.
   */
  static Duration nextWake(
      MixedPrecisionJob job,
      Verdict verdict,
      MixedPrecisionJobStatus after,
      SizingPlan plan,
      Instant now,
      Duration progressInterval) {
    List<Duration> wakes = new ArrayList<>();
    RunPolicySpec policy =
        Optional.ofNullable(job.getSpec())
            .map(spec -> spec.runPolicy)
            .orElseGet(RunPolicySpec::new);
    if (after.phase.isFinished()
        && after.completionTime != null
        && policy.ttlSecondsAfterFinished != null) {
      wakes.add(
          Duration.between(
              now,
              Instant.parse(after.completionTime).plusSeconds(policy.ttlSecondsAfterFinished)));
    }
    if (verdict instanceof Verdict.Start start
        && start.isNew()
        && plan != null
        && plan.waitingForGpus()) {
      wakes.add(RETRY_SIZING);
    }
    boolean active =
        verdict instanceof Verdict.Observe
            || verdict instanceof Verdict.Restart
            || verdict instanceof Verdict.AwaitStop
            || (verdict instanceof Verdict.Start s
                && (!s.isNew() || (plan != null && plan.fits())));
    if (active) {
      wakes.add(progressInterval);
      Instant deadline = GangPlanner.deadline(after, policy);
      if (deadline != null) {
        wakes.add(Duration.between(now, deadline));
      }
    }
    return wakes.stream()
        .map(d -> d.isNegative() ? Duration.ZERO : d)
        .min(Comparator.naturalOrder())
        .orElse(null);
  }

  /** Drops what this operator keeps in memory about a job that is gone. */
  private void forget(MixedPrecisionJob job) {
    progress.forget(key(job));
    progress.forget(key(job) + "/reference");
  }

  /** The job waits for Kueue: Kueue is installed and the job names a queue. */
  private boolean queued(MixedPrecisionJob job) {
    return integrations.kueue() && Workloads.queue(job) != null;
  }

  private static boolean sameStatus(MixedPrecisionJobStatus before, MixedPrecisionJobStatus after) {
    // Compared as JSON trees, as the status is written: no YAML text rendered per reconcile.
    ObjectMapper json = JobFiles.yamlMapper();
    return before != null && json.valueToTree(before).equals(json.valueToTree(after));
  }

  private static String key(MixedPrecisionJob job) {
    return job.getMetadata().getUid();
  }
}
