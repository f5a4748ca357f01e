package dev.mpj.operator;

import dev.mpj.api.Crd;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.chart.OperatorPermissions;
import dev.mpj.chart.OwnerReferencesPermissionEnforcement;
import dev.mpj.chart.SelfSubjectRulesReviews;
import dev.mpj.local.CascadingDeleteDispatcher;
import dev.mpj.local.StatusApplyDispatcher;
import dev.mpj.local.ValidatingDispatcher;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fabric8 mock API server in CRUD mode, behind the {@link ValidatingDispatcher} that checks
 * names as a real API server does and the {@link StatusApplyDispatcher} that applies the operator's
 * server-side apply of a status and the {@link CascadingDeleteDispatcher} that deletes what a
 * deleted object owned, as the garbage collector does, with the MPJ CRD and one GPU node, plus the
 * kubelet's part that tests play by hand: setting pod phases and exit codes.
 */
public final class MockCluster implements AutoCloseable {
  public static final String NS = "team-a";

  /**
   * Held so that the setting sticks: the mock server logs every request at INFO through
   * java.util.logging.
   */
  private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(Level.WARNING);
  }

  private final KubernetesMockServer server;
  private final AccessReviewingCrud dispatcher;
  public final KubernetesClient client;

  private MockCluster(KubernetesMockServer server, AccessReviewingCrud dispatcher) {
    this.server = server;
    this.dispatcher = dispatcher;
    this.client = server.createClient();
  }

  public static MockCluster start() {
    return start(OperatorPermissions.load(), dispatcher -> dispatcher);
  }

  /**
   * @param granted what the operator's service account may do, as SelfSubjectRulesReview answers
   */
  public static MockCluster start(OperatorPermissions granted) {
    return start(granted, dispatcher -> dispatcher);
  }

  /** The same cluster, with {@code around} in front of its dispatcher (faults, for instance). */
  public static MockCluster start(UnaryOperator<Dispatcher> around) {
    return start(OperatorPermissions.load(), around);
  }

  private static MockCluster start(OperatorPermissions granted, UnaryOperator<Dispatcher> around) {
    AccessReviewingCrud dispatcher = new AccessReviewingCrud(granted);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            around.apply(
                new StatusApplyDispatcher(
                    new ValidatingDispatcher(new CascadingDeleteDispatcher(dispatcher)))),
            false);
    server.init();
    MockCluster cluster = new MockCluster(server, dispatcher);
    try (InputStream crd =
        MixedPrecisionJob.class.getResourceAsStream("/META-INF/fabric8/" + Crd.FILE_NAME)) {
      cluster.client.apiextensions().v1().customResourceDefinitions().load(crd).create();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    cluster
        .client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("gpu-node-1")
                .withLabels(
                    Map.of("nvidia.com/gpu.memory", "16384", "nvidia.com/gpu.product", "Tesla-T4"))
                .endMetadata()
                .withNewStatus()
                .withAllocatable(
                    Map.of("nvidia.com/gpu", new Quantity("8"), "cpu", new Quantity("32")))
                .endStatus()
                .build())
        .create();
    return cluster;
  }

  /** The quick-start example, under another name, in {@link #NS}. */
  public static MixedPrecisionJob quickstart(String name) {
    try {
      MixedPrecisionJob job =
          JobFiles.parse(Files.readString(examples().resolve("quickstart.yaml")));
      job.getMetadata().setName(name);
      job.getMetadata().setNamespace(NS);
      return job;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path examples() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("docs/examples"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException(
          "docs/examples not found above " + Path.of("").toAbsolutePath());
    }
    return dir.resolve("docs/examples");
  }

  public MixedPrecisionJob apply(MixedPrecisionJob job) {
    return client.resource(job).create();
  }

  public MixedPrecisionJob job(String name) {
    return client.resources(MixedPrecisionJob.class).inNamespace(NS).withName(name).get();
  }

  public List<Pod> pods(String job) {
    return client
        .pods()
        .inNamespace(NS)
        .withLabel(Crd.LABEL_JOB_NAME, job)
        .list()
        .getItems()
        .stream()
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
  }

  /** The token in the job's Secret, as its trainers read it; null while there is none. */
  public String token(String job) {
    Secret secret = client.secrets().inNamespace(NS).withName(job + "-token").get();
    if (secret == null) {
      return null;
    }
    if (secret.getData() != null && secret.getData().get("token") != null) {
      return new String(
          Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8);
    }
    return secret.getStringData() == null ? null : secret.getStringData().get("token");
  }

  public List<Event> events(String job) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  /** Plays the kubelet: the pod runs, with an IP. */
  public void markRunning(Pod pod, String ip) {
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP(ip).build());
              return p;
            });
  }

  /** Plays the kubelet: the trainer container exited with {@code exitCode}. */
  public void markExited(Pod pod, int exitCode) {
    markExited(pod, exitCode, null);
  }

  /**
   * Plays the kubelet: the trainer container exited with {@code exitCode}, leaving {@code message}
   * (or none).
   */
  public void markExited(Pod pod, int exitCode, String message) {
    String phase = exitCode == 0 ? "Succeeded" : "Failed";
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(
                  new PodStatusBuilder()
                      .withPhase(phase)
                      .withContainerStatuses(
                          new ContainerStatusBuilder()
                              .withName("trainer")
                              .withState(
                                  new ContainerStateBuilder()
                                      .withNewTerminated()
                                      .withExitCode(exitCode)
                                      .withReason(exitCode == 0 ? "Completed" : "Error")
                                      .withMessage(message)
                                      .withFinishedAt(Instant.now().toString())
                                      .endTerminated()
                                      .build())
                              .build())
                      .build());
              return p;
            });
  }

  /**
   * Plays the kubelet of a pod the operator may already have deleted (it stops the whole gang as
   * soon as one replica fails): reports the exit if the pod is still there, as a kubelet would, and
   * nothing if it is gone.
   */
  public void markExitedUnlessDeleted(Pod pod, int exitCode) {
    try {
      markExited(pod, exitCode, null);
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
        throw e;
      }
    }
  }

  /** The owner-reference admission checks the server made, for the RBAC test. */
  public OwnerReferencesPermissionEnforcement ownerReferenceChecks() {
    return dispatcher.ownerReferences;
  }

  /**
   * Plays the scheduler, then the kubelet: Kubernetes disrupts the pod (the DisruptionTarget
   * condition with {@code reason}) and the trainer exits with {@code exitCode} after SIGTERM.
   */
  public void markDisrupted(Pod pod, String reason, int exitCode) {
    // One write, as the pod's end is seen: the condition is there before the pod has failed.
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(
                  new PodStatusBuilder()
                      .withPhase("Failed")
                      .withConditions(
                          new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                              .withType("DisruptionTarget")
                              .withStatus("True")
                              .withReason(reason)
                              .withMessage("Kubernetes disrupted the pod")
                              .build())
                      .withContainerStatuses(
                          new ContainerStatusBuilder()
                              .withName("trainer")
                              .withState(
                                  new ContainerStateBuilder()
                                      .withNewTerminated()
                                      .withExitCode(exitCode)
                                      .withReason("Error")
                                      .withFinishedAt(java.time.Instant.now().toString())
                                      .endTerminated()
                                      .build())
                              .build())
                      .build());
              return p;
            });
  }

  /** Installs a CRD from the test resources (e.g. {@code /kueue/workloads.kueue.x-k8s.io.yaml}). */
  public void installCrd(String resource) {
    try (InputStream crd = MockCluster.class.getResourceAsStream(resource)) {
      if (crd == null) {
        throw new IllegalArgumentException("no test resource " + resource);
      }
      client.apiextensions().v1().customResourceDefinitions().load(crd).create();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The server itself, for tests that read the requests it received. */
  public KubernetesMockServer server() {
    return server;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }

  /**
   * CRUD, plus the one question JOSDK asks before it elects a leader ("may I use Leases?"), which
   * the CRUD dispatcher cannot answer: answered with the rules the chart grants.
   */
  static final class AccessReviewingCrud extends KubernetesCrudDispatcher {
    private final OperatorPermissions granted;
    private final OwnerReferencesPermissionEnforcement ownerReferences;

    AccessReviewingCrud(OperatorPermissions granted) {
      this.granted = granted;
      this.ownerReferences = new OwnerReferencesPermissionEnforcement(granted);
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
      if (SelfSubjectRulesReviews.isReview(request)) {
        return SelfSubjectRulesReviews.answer(request, granted);
      }
      return ownerReferences.refusal(request).orElseGet(() -> super.handleCreate(request));
    }
  }
}
