package dev.mpj.operator;

import dev.mpj.api.Crd;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.local.ValidatingDispatcher;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fabric8 mock API server in CRUD mode, behind the {@link ValidatingDispatcher} that checks
 * names as a real API server does, with the MPJ CRD and one GPU node, plus the kubelet's part that
 * tests play by hand: setting pod phases and exit codes.
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
  public final KubernetesClient client;

  private MockCluster(KubernetesMockServer server) {
    this.server = server;
    this.client = server.createClient();
  }

  public static MockCluster start() {
    return start(dispatcher -> dispatcher);
  }

  /** The same cluster, with {@code around} in front of its dispatcher (faults, for instance). */
  public static MockCluster start(UnaryOperator<Dispatcher> around) {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            around.apply(new ValidatingDispatcher(new AccessReviewingCrud())),
            false);
    server.init();
    MockCluster cluster = new MockCluster(server);
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
   * the CRUD dispatcher cannot answer: yes.
   */
  static final class AccessReviewingCrud extends KubernetesCrudDispatcher {
    @Override
    public MockResponse handleCreate(RecordedRequest request) {
      if (request.getPath().startsWith("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")) {
        return new MockResponse()
            .setResponseCode(201)
            .setBody(
                "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\","
                    + "\"metadata\":{},\"spec\":{},\"status\":{\"incomplete\":false,\"nonResourceRules\":[],"
                    + "\"resourceRules\":[{\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"],"
                    + "\"verbs\":[\"*\"]}]}}");
      }
      return super.handleCreate(request);
    }
  }
}
