package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.Crd;
import dev.mpj.operator.queue.Workloads;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Kueue's scheduler for {@code mpj local --evict-at}, by the protocol Kueue documents for job
 * controllers outside its tree, in {@code kueue.x-k8s.io/v1beta2}: it admits each Workload in full
 * on the flavor {@value #FLAVOR} (status.admission with the flavors and count, QuotaReserved and
 * Admitted True); once rank 0 of the admitted gang reports the step, it evicts it as preemption
 * does (Evicted True with reason Preempted, and Preempted True); once the job controller has
 * stopped the pods and released the quota (QuotaReserved False), it keeps the Workload queued for
 * the hold, then admits it again with fewer pods (partial admission; Evicted and Preempted turn
 * False, as Kueue's re-admission sets them). Each Workload is evicted once.
 *
 * <p>What it does not play: ClusterQueues, quota arithmetic, priorities, admission checks. The
 * operator only reads what is written here, which is what Kueue writes.
 */
final class LocalKueue implements AutoCloseable {
  /** The ResourceFlavor of this machine's node, and the queue name jobs get. */
  static final String FLAVOR = "mpj-local";

  static final String QUEUE = "mpj-local";
  private static final String PREEMPTED = "Preempted";
  private static final long POLL_MILLIS = 20;

  private final KubernetesClient client;
  private final Path workDir;
  private final EvictionInjection eviction;
  private final Consumer<String> log;
  private final Map<String, Progress> workloads = new LinkedHashMap<>();
  private final Map<Path, MetricsTail> tails = new LinkedHashMap<>();
  private volatile boolean closing;
  private Thread thread;

  /** Where one Workload stands in the eviction's story. */
  private static final class Progress {
    boolean admitted;
    boolean evicted;
    Instant releasedAt;
    boolean readmitted;
  }

  LocalKueue(
      KubernetesClient client, Path workDir, EvictionInjection eviction, Consumer<String> log) {
    this.client = client;
    this.workDir = workDir;
    this.eviction = eviction;
    this.log = log;
  }

  /**
   * Installs the Workload and ResourceFlavor CRDs (before the operator starts: it detects Kueue at
   * start-up) and the flavor of this machine's node.
   */
  static void install(KubernetesClient client) {
    for (String crd :
        List.of(
            "/kueue/workloads.kueue.x-k8s.io.yaml", "/kueue/resourceflavors.kueue.x-k8s.io.yaml")) {
      client.apiextensions().v1().customResourceDefinitions().resource(crd(crd)).create();
    }
    client
        .genericKubernetesResources(Workloads.RESOURCE_FLAVORS)
        .resource(
            new GenericKubernetesResourceBuilder()
                .withApiVersion(Workloads.API_VERSION)
                .withKind("ResourceFlavor")
                .withNewMetadata()
                .withName(FLAVOR)
                .endMetadata()
                .withAdditionalProperties(
                    Map.of(
                        "spec",
                        Map.of(
                            "nodeLabels",
                            Map.of("kubernetes.io/hostname", LocalCluster.NODE_NAME))))
                .build())
        .create();
  }

  private static CustomResourceDefinition crd(String resource) {
    try (InputStream in = LocalKueue.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("not on the class path: " + resource);
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void start() {
    thread = new Thread(this::run, "mpj-local-kueue");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (!closing) {
      try {
        client
            .genericKubernetesResources(Workloads.WORKLOADS)
            .inAnyNamespace()
            .list()
            .getItems()
            .forEach(this::schedule);
      } catch (KubernetesClientException e) {
        if (!closing) {
          log.accept("kueue: " + e.getMessage());
        }
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void schedule(GenericKubernetesResource workload) {
    JsonNode w = Serialization.jsonMapper().valueToTree(workload);
    String key = workload.getMetadata().getNamespace() + "/" + workload.getMetadata().getName();
    Progress p = workloads.computeIfAbsent(key, k -> new Progress());
    JsonNode conditions = w.path("status").path("conditions");
    if (isTrue(conditions, Workloads.FINISHED)) {
      return;
    }
    JsonNode podSet = w.path("spec").path("podSets").path(0);
    int count = podSet.path("count").asInt(1);
    int minCount = podSet.path("minCount").asInt(count);
    boolean reserved = isTrue(conditions, Workloads.QUOTA_RESERVED);
    if (!p.admitted) {
      if (!reserved) {
        admit(workload, podSet, count, "admitted in full");
        p.admitted = true;
      }
      return;
    }
    if (!p.evicted) {
      long step = rankZeroStep(workload).orElse(-1L);
      if (step >= eviction.step()) {
        evict(workload, step);
        p.evicted = true;
      }
      return;
    }
    if (p.readmitted) {
      return;
    }
    if (p.releasedAt == null) {
      if (!reserved) {
        p.releasedAt = Instant.now();
        log.accept(
            "kueue: the job stopped its pods and released the quota of "
                + key
                + "; it waits in the queue for "
                + eviction.hold().toSeconds()
                + " s");
      }
      return;
    }
    if (Instant.now().isAfter(p.releasedAt.plus(eviction.hold()))) {
      int wanted = eviction.replicas() == null ? minCount : eviction.replicas();
      int admitted = Math.max(minCount, Math.min(count, wanted));
      if (admitted != wanted) {
        log.accept(
            "kueue: --evict-at asks for "
                + wanted
                + " replicas; the Workload accepts "
                + minCount
                + " to "
                + count
                + " (spec.replicas and the sizing), so Kueue admits "
                + admitted);
      }
      admit(workload, podSet, admitted, "admitted again after the eviction");
      p.readmitted = true;
    }
  }

  /** Reserves quota on {@link #FLAVOR} for {@code count} pods and admits the Workload. */
  private void admit(GenericKubernetesResource workload, JsonNode podSet, int count, String why) {
    Map<String, Object> flavors = new TreeMap<>();
    Map<String, Quantity> usage = new TreeMap<>();
    for (JsonNode container : podSet.path("template").path("spec").path("containers")) {
      container
          .path("resources")
          .path("requests")
          .fields()
          .forEachRemaining(
              r -> {
                flavors.put(r.getKey(), FLAVOR);
                Quantity each = new Quantity(r.getValue().asText());
                usage.merge(r.getKey(), each.multiply(count), Quantity::add);
              });
    }
    Map<String, Object> usageText = new TreeMap<>();
    usage.forEach((k, v) -> usageText.put(k, v.toString()));
    Map<String, Object> assignment = new LinkedHashMap<>();
    assignment.put("name", podSet.path("name").asText(Workloads.POD_SET));
    assignment.put("flavors", flavors);
    assignment.put("resourceUsage", usageText);
    assignment.put("count", count);
    editStatus(
        workload,
        status -> {
          status.put(
              "admission", Map.of("clusterQueue", QUEUE, "podSetAssignments", List.of(assignment)));
          set(
              status,
              Workloads.QUOTA_RESERVED,
              true,
              "QuotaReserved",
              "Quota reserved in ClusterQueue " + QUEUE);
          set(status, Workloads.ADMITTED, true, "Admitted", "The workload is admitted");
          // Re-admission: Kueue turns a previous eviction and preemption False, "Previously: ...".
          previously(status, Workloads.EVICTED);
          previously(status, PREEMPTED);
        });
    log.accept(
        "kueue: "
            + why
            + ": "
            + workload.getMetadata().getName()
            + " with "
            + count
            + (count == 1 ? " replica" : " replicas")
            + " on flavor "
            + FLAVOR);
  }

  private void evict(GenericKubernetesResource workload, long step) {
    String message =
        "Preempted to accommodate a higher priority Workload (mpj local --evict-at "
            + eviction.step()
            + ")";
    editStatus(
        workload,
        status -> {
          set(status, Workloads.EVICTED, true, PREEMPTED, message);
          set(status, PREEMPTED, true, "InClusterQueue", message);
        });
    log.accept(
        "--evict-at: Kueue evicts "
            + workload.getMetadata().getName()
            + " at step "
            + step
            + " (Evicted, reason Preempted)");
  }

  /**
   * The last step in rank 0's metrics.jsonl, for the newest attempt's rank 0 pod of the job that
   * owns the Workload; empty before it wrote one.
   */
  private Optional<Long> rankZeroStep(GenericKubernetesResource workload) {
    var owners = workload.getMetadata().getOwnerReferences();
    if (owners == null || owners.isEmpty()) {
      return Optional.empty();
    }
    List<Pod> pods =
        client
            .pods()
            .inNamespace(workload.getMetadata().getNamespace())
            .withLabel(Crd.LABEL_JOB_NAME, owners.get(0).getName())
            .withLabel(Crd.LABEL_REPLICA_INDEX, "0")
            .list()
            .getItems();
    for (Pod pod : pods) {
      String attempt = pod.getMetadata().getLabels().getOrDefault(Crd.LABEL_ATTEMPT, "1");
      Path dir =
          workDir.resolve("pods").resolve(pod.getMetadata().getName() + "-attempt-" + attempt);
      Optional<Path> metrics = metricsFile(dir);
      if (metrics.isPresent()) {
        long step = tails.computeIfAbsent(metrics.get(), MetricsTail::new).lastStep();
        return step < 0 ? Optional.empty() : Optional.of(step);
      }
    }
    return Optional.empty();
  }

  private static Optional<Path> metricsFile(Path podDir) {
    if (!Files.isDirectory(podDir)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.walk(podDir)) {
      return files.filter(f -> f.getFileName().toString().equals("metrics.jsonl")).findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  @SuppressWarnings("unchecked")
  private void editStatus(
      GenericKubernetesResource workload, Consumer<Map<String, Object>> change) {
    client
        .genericKubernetesResources(Workloads.WORKLOADS)
        .inNamespace(workload.getMetadata().getNamespace())
        .withName(workload.getMetadata().getName())
        .editStatus(
            w -> {
              Map<String, Object> status =
                  w.getAdditionalProperties().get("status") instanceof Map<?, ?> m
                      ? new LinkedHashMap<>((Map<String, Object>) m)
                      : new LinkedHashMap<>();
              change.accept(status);
              w.getAdditionalProperties().put("status", status);
              return w;
            });
  }

  private static boolean isTrue(JsonNode conditions, String type) {
    for (JsonNode c : conditions) {
      if (type.equals(c.path("type").asText())) {
        return "True".equals(c.path("status").asText());
      }
    }
    return false;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> conditions(Map<String, Object> status) {
    List<Map<String, Object>> conditions = new ArrayList<>();
    if (status.get("conditions") instanceof List<?> list) {
      list.forEach(c -> conditions.add(new LinkedHashMap<>((Map<String, Object>) c)));
    }
    return conditions;
  }

  private static void set(
      Map<String, Object> status, String type, boolean value, String reason, String message) {
    List<Map<String, Object>> conditions = conditions(status);
    conditions.removeIf(c -> type.equals(c.get("type")));
    Map<String, Object> condition = new LinkedHashMap<>();
    condition.put("type", type);
    condition.put("status", value ? "True" : "False");
    condition.put("reason", reason);
    condition.put("message", message);
    condition.put("lastTransitionTime", Instant.now().toString());
    conditions.add(condition);
    status.put("conditions", conditions);
  }

  /** A True condition turns False with reason QuotaReserved and "Previously: " its message. */
  private static void previously(Map<String, Object> status, String type) {
    for (Map<String, Object> c : conditions(status)) {
      if (type.equals(c.get("type")) && "True".equals(c.get("status"))) {
        set(status, type, false, "QuotaReserved", "Previously: " + c.get("message"));
      }
    }
  }

  @Override
  public void close() {
    closing = true;
    if (thread != null) {
      thread.interrupt();
    }
  }
}
