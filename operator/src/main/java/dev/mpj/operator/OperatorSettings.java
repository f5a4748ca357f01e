package dev.mpj.operator;

import dev.mpj.operator.queue.Integrations;
import dev.mpj.operator.resources.JobTokens;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.Sizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Everything that configures one operator, from flags ({@code mpj operator}) or from {@code mpj
 * local}.
 *
 * @param namespaces namespaces to watch; empty: all namespaces
 * @param defaultImage trainer image for jobs that set no spec.image
 * @param coordinatorPort port rank 0 listens on for the gang's rendezvous
 * @param trainerMetricsPort port rank 0 serves /progress (and metrics) on
 * @param progressInterval how often a running job's progress is read from rank 0
 * @param progressTimeout how long one read of rank 0's progress may take
 * @param leaderElection lease name and namespace when leader election is on, else null
 * @param meterRegistry where JOSDK's reconciliation metrics and the job metrics go; by default an
 *     empty composite, which records nothing: {@code mpj operator} plugs in a Prometheus registry
 * @param sizer decides replicas, micro-batch and accumulation: by default a {@link MemorySizer}
 *     with the default GPU memory reserve and the GPU memory assumed when neither the spec nor a
 *     node label says it
 * @param integrations the chart's switches for Kueue, Volcano and coscheduling (auto: on when the
 *     cluster serves their APIs at start-up)
 * @param serverSideApply whether the job's status is written, and JOSDK patches the job and matches
 *     dependents, with server-side apply, as JOSDK recommends: on by default and in {@code mpj
 *     local} (whose API server applies the operator's status patches); off only against an API
 *     server without it, where the status is replaced instead
 * @param jobTokens derives each job's token from the operator's key: by default a random key, which
 *     lives as long as this process ({@code mpj operator} reads the chart's key from a file)
 */
public record OperatorSettings(
    Set<String> namespaces,
    String defaultImage,
    int coordinatorPort,
    int trainerMetricsPort,
    Duration progressInterval,
    Duration progressTimeout,
    LeaderElection leaderElection,
    MeterRegistry meterRegistry,
    Sizer sizer,
    Integrations.Switches integrations,
    boolean serverSideApply,
    JobTokens jobTokens) {

  public static final String DEFAULT_IMAGE = "mpj-trainer:0.1.0";
  public static final int DEFAULT_COORDINATOR_PORT = 29500;
  public static final int DEFAULT_TRAINER_METRICS_PORT = 9400;

  /**
   * Lease that the operator replicas compete for.
   *
   * @param leaseNamespace null: the namespace of the operator's own pod (its client's namespace)
   * @param leaseDuration how long a leader that stopped renewing keeps the lease
   */
  public record LeaderElection(
      String leaseName,
      String leaseNamespace,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod) {
    public LeaderElection(String leaseName, String leaseNamespace) {
      this(
          leaseName,
          leaseNamespace,
          Duration.ofSeconds(15),
          Duration.ofSeconds(10),
          Duration.ofSeconds(2));
    }
  }

  public OperatorSettings {
    namespaces = namespaces == null ? Set.of() : Set.copyOf(namespaces);
    integrations = integrations == null ? Integrations.Switches.AUTO : integrations;
    jobTokens = jobTokens == null ? JobTokens.random() : jobTokens;
  }

  public static OperatorSettings defaults() {
    return new OperatorSettings(
        Set.of(),
        DEFAULT_IMAGE,
        DEFAULT_COORDINATOR_PORT,
        DEFAULT_TRAINER_METRICS_PORT,
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        null,
        new CompositeMeterRegistry(),
        new MemorySizer(SizingSettings.defaults()),
        Integrations.Switches.AUTO,
        true,
        JobTokens.random());
  }

  public OperatorSettings withNamespaces(Set<String> value) {
    return with(s -> s.namespaces = value);
  }

  public OperatorSettings withDefaultImage(String value) {
    return with(s -> s.defaultImage = value);
  }

  public OperatorSettings withPorts(int coordinator, int trainerMetrics) {
    return with(
        s -> {
          s.coordinatorPort = coordinator;
          s.trainerMetricsPort = trainerMetrics;
        });
  }

  public OperatorSettings withProgressInterval(Duration value) {
    return with(s -> s.progressInterval = value);
  }

  public OperatorSettings withLeaderElection(LeaderElection value) {
    return with(s -> s.leaderElection = value);
  }

  public OperatorSettings withMeterRegistry(MeterRegistry value) {
    return with(s -> s.meterRegistry = value);
  }

  public OperatorSettings withSizer(Sizer value) {
    return with(s -> s.sizer = value);
  }

  public OperatorSettings withIntegrations(Integrations.Switches value) {
    return with(s -> s.integrations = value);
  }

  /** Server-side apply on or off; off only for an API server that has none. */
  public OperatorSettings withServerSideApply(boolean value) {
    return with(s -> s.serverSideApply = value);
  }

  /** The key that each job's token is derived from ({@link JobTokens}). */
  public OperatorSettings withJobTokens(JobTokens value) {
    return with(s -> s.jobTokens = value);
  }

  /** A copy with {@code change} applied to its components. */
  private OperatorSettings with(Consumer<Components> change) {
    Components c = new Components(this);
    change.accept(c);
    return c.settings();
  }

  /** The components of a settings record, to change some of them in a copy. */
  private static final class Components {
    Set<String> namespaces;
    String defaultImage;
    int coordinatorPort;
    int trainerMetricsPort;
    Duration progressInterval;
    Duration progressTimeout;
    LeaderElection leaderElection;
    MeterRegistry meterRegistry;
    Sizer sizer;
    Integrations.Switches integrations;
    boolean serverSideApply;
    JobTokens jobTokens;

    Components(OperatorSettings s) {
      namespaces = s.namespaces;
      defaultImage = s.defaultImage;
      coordinatorPort = s.coordinatorPort;
      trainerMetricsPort = s.trainerMetricsPort;
      progressInterval = s.progressInterval;
      progressTimeout = s.progressTimeout;
      leaderElection = s.leaderElection;
      meterRegistry = s.meterRegistry;
      sizer = s.sizer;
      integrations = s.integrations;
      serverSideApply = s.serverSideApply;
      jobTokens = s.jobTokens;
    }

    OperatorSettings settings() {
      return new OperatorSettings(
          namespaces,
          defaultImage,
          coordinatorPort,
          trainerMetricsPort,
          progressInterval,
          progressTimeout,
          leaderElection,
          meterRegistry,
          sizer,
          integrations,
          serverSideApply,
          jobTokens);
    }
  }
}
