package dev.mpj.cli;

import dev.mpj.operator.MpjOperator;
import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.health.HealthServer;
import dev.mpj.operator.metrics.MetricsEndpoint;
import dev.mpj.operator.metrics.MetricsServer;
import dev.mpj.operator.queue.Integrations;
import dev.mpj.operator.resources.JobTokens;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj operator}: every flag has an environment variable, for the Helm chart's Deployment.
 */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description = "Run the operator against the cluster of the current kubeconfig, or in-cluster.")
final class OperatorCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"-n", "--namespace"},
      split = ",",
      defaultValue = "${env:MPJ_WATCH_NAMESPACES}",
      description =
          "Namespaces to watch, comma-separated or repeated (env MPJ_WATCH_NAMESPACES). Default: all.")
  List<String> namespaces;

  @Option(
      names = "--trainer-image",
      defaultValue = "${env:MPJ_TRAINER_IMAGE:-" + OperatorSettings.DEFAULT_IMAGE + "}",
      description =
          "Trainer image for jobs without spec.image (env MPJ_TRAINER_IMAGE). Default: ${DEFAULT-VALUE}.")
  String defaultImage;

  @Option(
      names = "--default-gpu-memory",
      defaultValue = "${env:MPJ_DEFAULT_GPU_MEMORY:-16Gi}",
      description =
          "GPU memory assumed when neither the job nor a node label says it (env MPJ_DEFAULT_GPU_MEMORY). "
              + "Default: ${DEFAULT-VALUE}.")
  String defaultGpuMemory;

  @Option(
      names = "--gpu-memory-reserve",
      defaultValue = "${env:MPJ_GPU_MEMORY_RESERVE:-1Gi}",
      description =
          "GPU memory that training never gets: CUDA context and library workspaces; 5%% more is held back "
              + "for fragmentation (env MPJ_GPU_MEMORY_RESERVE). Default: ${DEFAULT-VALUE}.")
  String gpuMemoryReserve;

  @Option(
      names = "--health-port",
      defaultValue = "${env:MPJ_HEALTH_PORT:-8081}",
      description =
          "Port of /healthz and /readyz (env MPJ_HEALTH_PORT). Default: ${DEFAULT-VALUE}.")
  int healthPort;

  @Option(
      names = "--metrics-port",
      defaultValue = "${env:MPJ_METRICS_PORT:-8080}",
      description =
          "Port of the Prometheus endpoint /metrics; the health port too serves it when both are the same "
              + "(env MPJ_METRICS_PORT). Default: ${DEFAULT-VALUE}.")
  int metricsPort;

  @Option(
      names = "--trainer-metrics-port",
      defaultValue =
          "${env:MPJ_TRAINER_METRICS_PORT:-" + OperatorSettings.DEFAULT_TRAINER_METRICS_PORT + "}",
      description =
          "Port rank 0 serves /progress on (env MPJ_TRAINER_METRICS_PORT). Default: ${DEFAULT-VALUE}.")
  int trainerMetricsPort;

  @Option(
      names = "--coordinator-port",
      defaultValue =
          "${env:MPJ_COORDINATOR_PORT:-" + OperatorSettings.DEFAULT_COORDINATOR_PORT + "}",
      description =
          "Port rank 0 listens on for the gang's rendezvous (env MPJ_COORDINATOR_PORT). Default: ${DEFAULT-VALUE}.")
  int coordinatorPort;

  @Option(
      names = "--leader-election",
      defaultValue = "${env:MPJ_LEADER_ELECTION:-false}",
      description =
          "Compete for a Lease so that only one of several replicas reconciles (env MPJ_LEADER_ELECTION).")
  boolean leaderElection;

  @Option(
      names = "--lease-name",
      defaultValue = "${env:MPJ_LEASE_NAME:-mpj-operator}",
      description = "Name of the Lease (env MPJ_LEASE_NAME). Default: ${DEFAULT-VALUE}.")
  String leaseName;

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:MPJ_LEADER_ELECTION_NAMESPACE}",
      description =
          "Namespace of the Lease (env MPJ_LEADER_ELECTION_NAMESPACE). Default: the operator's own namespace.")
  String leaseNamespace;

  @Option(
      names = "--kueue",
      defaultValue = "${env:MPJ_INTEGRATION_KUEUE:-auto}",
      description =
          "Kueue integration: auto (on when the cluster serves kueue.x-k8s.io/v1beta2 Workloads at"
              + " start-up), enabled (refuse to start without them) or disabled (env"
              + " MPJ_INTEGRATION_KUEUE). Default: ${DEFAULT-VALUE}.")
  String kueue;

  @Option(
      names = "--volcano",
      defaultValue = "${env:MPJ_INTEGRATION_VOLCANO:-auto}",
      description =
          "Volcano PodGroups (scheduling.volcano.sh/v1beta1): auto, enabled or disabled (env"
              + " MPJ_INTEGRATION_VOLCANO). Default: ${DEFAULT-VALUE}.")
  String volcano;

  @Option(
      names = "--coscheduling",
      defaultValue = "${env:MPJ_INTEGRATION_COSCHEDULING:-auto}",
      description =
          "scheduler-plugins coscheduling PodGroups (scheduling.x-k8s.io/v1alpha1): auto, enabled"
              + " or disabled (env MPJ_INTEGRATION_COSCHEDULING). Default: ${DEFAULT-VALUE}.")
  String coscheduling;

  @Option(
      names = "--token-key-file",
      defaultValue = "${env:MPJ_TOKEN_KEY_FILE}",
      description =
          "File holding the key (at least 32 bytes) each job's token is derived from, so that the"
              + " operator never reads a job's Secret (env MPJ_TOKEN_KEY_FILE; the chart mounts its"
              + " key Secret). Without it a random key: after a restart the operator can no longer"
              + " read the progress of jobs started before.")
  Path tokenKeyFile;

  /** The settings the flags describe; refuses a flag that cannot work, naming it. */
  OperatorSettings settings() {
    long gpuMemory = bytes("--default-gpu-memory", defaultGpuMemory, false);
    long reserve = bytes("--gpu-memory-reserve", gpuMemoryReserve, true);
    for (var port :
        Map.of(
                "--health-port",
                healthPort,
                "--metrics-port",
                metricsPort,
                "--trainer-metrics-port",
                trainerMetricsPort,
                "--coordinator-port",
                coordinatorPort)
            .entrySet()) {
      if (port.getValue() < 0 || port.getValue() > 65535) {
        throw bad(port.getKey(), "must be a port number (got " + port.getValue() + ")");
      }
    }
    var settings =
        OperatorSettings.defaults()
            .withNamespaces(
                new LinkedHashSet<>(
                    namespaces == null
                        ? List.of()
                        : namespaces.stream().map(String::trim).filter(s -> !s.isEmpty()).toList()))
            .withDefaultImage(defaultImage)
            .withSizer(
                new MemorySizer(
                    new SizingSettings(
                        reserve, SizingSettings.defaults().reserveFraction(), gpuMemory)))
            .withPorts(coordinatorPort, trainerMetricsPort)
            .withIntegrations(
                new Integrations.Switches(
                    mode("--kueue", kueue),
                    mode("--volcano", volcano),
                    mode("--coscheduling", coscheduling)));
    if (tokenKeyFile != null) {
      settings = settings.withJobTokens(jobTokens(tokenKeyFile));
    } else {
      // The logger is made here, not in a static field: picocli builds every subcommand for any
      // command, and a logger made then fixes slf4j-simple's levels before mpj local, chaos and
      // the benchmarks quiet them (LocalCommand.quietLogs).
      LoggerFactory.getLogger(OperatorCommand.class)
          .warn(
              "no --token-key-file (MPJ_TOKEN_KEY_FILE): job tokens come from a random key; after a"
                  + " restart the progress of jobs started before cannot be read");
    }
    if (leaderElection) {
      settings =
          settings.withLeaderElection(
              new OperatorSettings.LeaderElection(
                  leaseName,
                  leaseNamespace == null || leaseNamespace.isBlank() ? null : leaseNamespace));
    }
    return settings;
  }

  /** The key in {@code file}, without the line end an editor or {@code echo} adds. */
  private JobTokens jobTokens(Path file) {
    String key;
    try {
      key = Files.readString(file).strip();
    } catch (IOException | RuntimeException e) {
      throw bad("--token-key-file", "cannot be read: " + file + " (" + e.getMessage() + ")");
    }
    try {
      return new JobTokens(key.getBytes(StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw bad("--token-key-file", e.getMessage() + " (" + file + ")");
    }
  }

  private Integrations.Mode mode(String flag, String value) {
    try {
      return Integrations.Mode.parse(flag, value);
    } catch (IllegalArgumentException e) {
      throw bad(flag, "must be auto, enabled or disabled (got " + value + ")");
    }
  }

  private long bytes(String flag, String value, boolean zeroAllowed) {
    try {
      long bytes = Quantity.getAmountInBytes(new Quantity(value)).longValue();
      if (bytes < 0 || bytes == 0 && !zeroAllowed) {
        throw new IllegalArgumentException("out of range");
      }
      return bytes;
    } catch (RuntimeException e) {
      throw bad(
          flag,
          "is not a "
              + (zeroAllowed ? "" : "positive ")
              + "quantity such as 16Gi (got "
              + value
              + ")");
    }
  }

  /** picocli answers it with the message and exit code 2, like any other bad flag. */
  private CommandLine.ParameterException bad(String flag, String message) {
    return new CommandLine.ParameterException(spec.commandLine(), flag + ": " + message);
  }

  @Override
  public Integer call() throws InterruptedException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OperatorSettings settings = settings().withMeterRegistry(registry);
    KubernetesClient client =
        new KubernetesClientBuilder().withHttpClientFactory(new JdkHttpClientFactory()).build();
    CountDownLatch stopped = new CountDownLatch(1);
    MpjOperator[] operator = new MpjOperator[1];
    MetricsEndpoint metrics =
        new MetricsEndpoint(
            registry,
            () -> {
              if (operator[0] != null) {
                operator[0].metrics().refresh();
              }
            });
    try (Endpoints endpoints =
        Endpoints.start(
            healthPort,
            metricsPort,
            () -> operator[0] == null || operator[0].isHealthy(),
            () -> operator[0] != null && operator[0].isStarted(),
            metrics)) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    if (operator[0] != null) {
                      operator[0].close();
                    }
                    client.close();
                    stopped.countDown();
                  },
                  "mpj-shutdown"));
      try {
        operator[0] = MpjOperator.start(client, settings);
      } catch (Integrations.Unavailable e) {
        System.err.println("mpj operator: " + e.getMessage());
        return 1;
      }
      System.err.println(
          "mpj operator: running; health on :"
              + endpoints.health().port()
              + "/healthz and /readyz, "
              + "metrics on :"
              + endpoints.metricsPort()
              + MetricsEndpoint.PATH);
      stopped.await();
    }
    return 0;
  }

  /**
   * The probes and the Prometheus endpoint: on two ports, or on one server when both flags name the
   * same port.
   *
   * @param metrics null when /metrics is served by {@code health}
   */
  record Endpoints(HealthServer health, MetricsServer metrics) implements AutoCloseable {
    static Endpoints start(
        int healthPort,
        int metricsPort,
        BooleanSupplier live,
        BooleanSupplier ready,
        MetricsEndpoint endpoint) {
      if (metricsPort == healthPort && healthPort != 0) {
        return new Endpoints(
            HealthServer.start(healthPort, live, ready, Map.of(MetricsEndpoint.PATH, endpoint)),
            null);
      }
      HealthServer health = HealthServer.start(healthPort, live, ready, Map.of());
      try {
        return new Endpoints(health, MetricsServer.start(metricsPort, endpoint));
      } catch (RuntimeException e) {
        health.close();
        throw e;
      }
    }

    int metricsPort() {
      return metrics != null ? metrics.port() : health.port();
    }

    @Override
    public void close() {
      if (metrics != null) {
        metrics.close();
      }
      health.close();
    }
  }
}
