package dev.mpj.local;

import com.sun.management.OperatingSystemMXBean;
import dev.mpj.api.Crd;
import dev.mpj.api.TrainerContract;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * An in-process Kubernetes API server (fabric8's mock server in CRUD mode, behind a {@link
 * ValidatingDispatcher} that refuses the names a real API server refuses) with the
 * MixedPrecisionJob CRD installed and one Node for this machine, whose GPU labels come from the
 * command line so that sizing sees a cluster as it would in production.
 */
public final class LocalCluster implements AutoCloseable {

  public static final String NODE_NAME = "mpj-local";

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final HttpApiServer api;

  private LocalCluster(KubernetesMockServer server, KubernetesClient client, HttpApiServer api) {
    this.server = server;
    this.client = client;
    this.api = api;
  }

  /**
   * Starts the API server on a free loopback port, installs the CRD and registers this machine;
   * {@code kubectl logs} reads the kubelet's log files under {@code podsDir}.
   */
  public static LocalCluster start(int gpus, Quantity gpuMemory, Path podsDir) {
    CustomResourceDefinition crd = crd();
    WatchableStore store = new WatchableStore();
    Dispatcher dispatcher = dispatcher(crd, podsDir, store);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    KubernetesClient client = server.createClient();
    LocalCluster cluster =
        new LocalCluster(server, client, HttpApiServer.start(dispatcher, store, crd, podsDir));
    try {
      client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      client.nodes().resource(node(gpus, gpuMemory)).create();
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /**
   * The mock server's CRUD store behind what kubectl needs of an API server: discovery, OpenAPI,
   * tables, HTTP watches, pod logs, admission by the CRD's schema and rules, name checks, the
   * operator's server-side apply of a status, and deletion of dependents.
   */
  static Dispatcher dispatcher(CustomResourceDefinition crd, Path podsDir, Dispatcher store) {
    Dispatcher validated =
        new AdmissionDispatcher(
            crd, new ValidatingDispatcher(new CascadingDeleteDispatcher(store)));
    return new DiscoveryDispatcher(
        crd,
        new OpenApiDispatcher(
            crd,
            new PodLogDispatcher(
                podsDir,
                new TableDispatcher(
                    crd,
                    new ListDispatcher(
                        new FieldSelectorDispatcher(new StatusApplyDispatcher(validated)))))));
  }

  /**
   * The API server's address for a kubeconfig (kubectl): the same store and rules as {@link
   * #client()}'s, over plain HTTP with streamed watches.
   */
  public String url() {
    return api.url();
  }

  public KubernetesClient client() {
    return client;
  }

  static CustomResourceDefinition crd() {
    String resource = "META-INF/fabric8/" + Crd.FILE_NAME;
    try (InputStream in = LocalCluster.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the CRD is not on the class path: " + resource);
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Node node(int gpus, Quantity gpuMemory) {
    long mib = Quantity.getAmountInBytes(gpuMemory).longValue() / (1024L * 1024L);
    Map<String, Quantity> resources =
        Map.of(
            "cpu",
            new Quantity(String.valueOf(Runtime.getRuntime().availableProcessors())),
            "memory",
            new Quantity(String.valueOf(totalMemoryBytes())),
            "pods",
            new Quantity("110"),
            TrainerContract.GPU_RESOURCE,
            new Quantity(String.valueOf(gpus)));
    return new NodeBuilder()
        .withNewMetadata()
        .withName(NODE_NAME)
        .addToLabels("kubernetes.io/hostname", NODE_NAME)
        .addToLabels("kubernetes.io/os", "linux")
        .addToLabels(TrainerContract.GPU_MEMORY_LABEL, String.valueOf(mib))
        .addToLabels(TrainerContract.GPU_PRODUCT_LABEL, "mpj-local-cpu")
        .addToLabels(TrainerContract.GPU_COUNT_LABEL, String.valueOf(gpus))
        .endMetadata()
        .withNewStatus()
        .withCapacity(resources)
        .withAllocatable(resources)
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withReason("KubeletReady")
        .endCondition()
        .endStatus()
        .build();
  }

  private static long totalMemoryBytes() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof OperatingSystemMXBean sun) {
      return sun.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }

  @Override
  public void close() {
    api.close();
    client.close();
    server.destroy();
  }
}
