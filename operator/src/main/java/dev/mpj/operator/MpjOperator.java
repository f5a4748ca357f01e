package dev.mpj.operator;

import dev.mpj.operator.events.KubernetesEventRecorder;
import dev.mpj.operator.gang.ClusterObserver;
import dev.mpj.operator.metrics.JobMetrics;
import dev.mpj.operator.progress.ProgressPoller;
import dev.mpj.operator.queue.Integrations;
import dev.mpj.operator.resources.JobResources;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.event.rate.LinearRateLimiter;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Builds and starts the operator: every piece of JOSDK configuration is here, once. {@code mpj
 * operator} and {@code mpj local} both start it through {@link #start}.
 */
public final class MpjOperator implements AutoCloseable {
  /** Name of the controller, in logs and metrics. */
  public static final String CONTROLLER = "mixedprecisionjob";

  private final Operator operator;
  private final ProgressPoller progress;
  private final JobResources resources;
  private final JobMetrics metrics;
  private final ClusterObserver cluster;

  private MpjOperator(
      Operator operator,
      ProgressPoller progress,
      JobResources resources,
      JobMetrics metrics,
      ClusterObserver cluster) {
    this.operator = operator;
    this.progress = progress;
    this.resources = resources;
    this.metrics = metrics;
    this.cluster = cluster;
  }

  /** Builds the operator for {@code client} and starts it; it runs until {@link #close()}. */
  public static MpjOperator start(KubernetesClient client, OperatorSettings settings) {
    return start(client, settings, Clock.systemUTC());
  }

  static MpjOperator start(KubernetesClient client, OperatorSettings settings, Clock clock) {
    ProgressPoller progress = new ProgressPoller(settings.progressTimeout(), clock);
    JobMetrics metrics = new JobMetrics(settings.meterRegistry());
    JobResources resources = new JobResources(client, settings.jobTokens());
    ClusterObserver cluster = new ClusterObserver(client);
    var reconciler =
        new MixedPrecisionJobReconciler(
            settings.sizer(),
            cluster,
            resources,
            new KubernetesEventRecorder(client, clock),
            progress,
            metrics,
            settings,
            clock,
            Integrations.detect(client, settings.integrations()));
    Operator operator = new Operator(configuration(client, settings));
    operator.register(
        reconciler,
        c -> {
          c.withName(CONTROLLER)
              // Delete events reach reconcile too, without a finalizer: the children go with the
              // job by owner reference, and only the in-memory token and progress need dropping.
              .withTriggerReconcilerOnAllEvents(true)
              .withGenerationAware(true)
              .withRetry(retry())
              .withRateLimiter(new LinearRateLimiter(Duration.ofSeconds(1), 10))
              .withReconciliationMaxInterval(Duration.ofMinutes(10));
          if (settings.namespaces().isEmpty()) {
            c.watchingAllNamespaces();
          } else {
            c.settingNamespaces(settings.namespaces());
          }
        });
    operator.start();
    return new MpjOperator(operator, progress, resources, metrics, cluster);
  }

  /**
   * The operator-wide JOSDK configuration. Server-side apply as JOSDK recommends, unless {@code
   * settings} turn it off for an API server that has none (mpj local's embedded one).
   */
  static Consumer<ConfigurationServiceOverrider> configuration(
      KubernetesClient client, OperatorSettings settings) {
    return o -> {
      o.withKubernetesClient(client)
          .withUseSSAToPatchPrimaryResource(settings.serverSideApply())
          .withSSABasedCreateUpdateMatchForDependentResources(settings.serverSideApply())
          // Per controller, not per resource: labels stay bounded however many jobs come and go.
          .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(settings.meterRegistry()))
          .withCloseClientOnStop(false)
          // An informer whose first list or watch fails (410 Gone, a 500) tries again, as it does
          // once started, instead of stopping the operator; /healthz answers 503 while an informer
          // is unhealthy.
          .withStopOnInformerErrorDuringStartup(false)
          .withConcurrentReconciliationThreads(10)
          .withReconciliationTerminationTimeout(Duration.ofSeconds(10));
      var election = settings.leaderElection();
      if (election != null) {
        // Each operator its own identity, and no System.exit when leadership ends: the process
        // may be mpj local or a test, and a stopped follower simply stops reconciling.
        o.withLeaderElectionConfiguration(
            new LeaderElectionConfiguration(
                election.leaseName(),
                election.leaseNamespace(),
                election.leaseDuration(),
                election.renewDeadline(),
                election.retryPeriod(),
                identity(),
                null,
                false));
      }
    };
  }

  /**
   * Exponential backoff from 1 s to 60 s, without a limit: an API server outage must not strand a
   * job.
   */
  static GenericRetry retry() {
    return new GenericRetry()
        .setInitialInterval(Duration.ofSeconds(1))
        .setIntervalMultiplier(2.0)
        .setMaxInterval(Duration.ofSeconds(60).toMillis())
        .withoutMaxAttempts();
  }

  private static String identity() {
    String host = System.getenv("HOSTNAME");
    return (host == null || host.isBlank() ? "mpj-operator" : host)
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  public boolean isStarted() {
    return operator.getRuntimeInfo().isStarted();
  }

  public boolean isHealthy() {
    return isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** The job metrics, for the scrape endpoint: {@link JobMetrics#refresh()} before each scrape. */
  public JobMetrics metrics() {
    return metrics;
  }

  /** Jobs whose progress this operator keeps in memory (tokens are derived, not kept). */
  int jobsKeptInMemory() {
    return progress.jobsKept();
  }

  @Override
  public void close() {
    operator.stop();
    cluster.close();
    progress.close();
    metrics.close();
  }
}
