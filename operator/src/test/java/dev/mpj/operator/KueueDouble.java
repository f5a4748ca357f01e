package dev.mpj.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.operator.queue.Workloads;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plays Kueue's scheduler against the mock API server, by the protocol Kueue documents for job
 * controllers outside its tree: it reserves quota and admits a Workload (status.admission with the
 * flavors and the admitted count, QuotaReserved and Admitted True), evicts it (Evicted True with a
 * reason), and admits it again only after the job controller released the quota.
 */
public final class KueueDouble {
  private final MockCluster cluster;

  public KueueDouble(MockCluster cluster) {
    this.cluster = cluster;
    cluster.installCrd("/kueue/workloads.kueue.x-k8s.io.yaml");
    cluster.installCrd("/kueue/resourceflavors.kueue.x-k8s.io.yaml");
  }

  public void flavor(
      String name, Map<String, String> nodeLabels, List<Map<String, Object>> tolerations) {
    cluster
        .client
        .genericKubernetesResources(Workloads.RESOURCE_FLAVORS)
        .resource(
            new GenericKubernetesResourceBuilder()
                .withApiVersion(Workloads.API_VERSION)
                .withKind("ResourceFlavor")
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withAdditionalProperties(
                    Map.of("spec", Map.of("nodeLabels", nodeLabels, "tolerations", tolerations)))
                .build())
        .create();
  }

  public GenericKubernetesResource workload(String name) {
    return cluster
        .client
        .genericKubernetesResources(Workloads.WORKLOADS)
        .inNamespace(MockCluster.NS)
        .withName(name)
        .get();
  }

  /** Reserves quota for {@code count} pods on {@code flavor} and admits the Workload. */
  public void admit(String name, int count, String flavor) {
    GenericKubernetesResource w = workload(name);
    assertThat(condition(w, Workloads.QUOTA_RESERVED))
        .as("Kueue admits only a Workload without a quota reservation")
        .isNotEqualTo("True");
    editStatus(
        name,
        status -> {
          Map<String, Object> assignment = new LinkedHashMap<>();
          assignment.put("name", Workloads.POD_SET);
          assignment.put("flavors", Map.of("nvidia.com/gpu", flavor, "cpu", flavor));
          assignment.put("count", count);
          status.put(
              "admission",
              Map.of(
                  "clusterQueue", "gpu-cluster-queue", "podSetAssignments", List.of(assignment)));
          set(status, Workloads.QUOTA_RESERVED, "True", "QuotaReserved", "quota reserved");
          set(status, Workloads.ADMITTED, "True", "Admitted", "admitted by gpu-cluster-queue");
          set(status, Workloads.EVICTED, "False", "QuotaReserved", "");
        });
  }

  /** Evicts the Workload, as Kueue's preemption does. */
  public void evict(String name, String reason, String message) {
    editStatus(name, status -> set(status, Workloads.EVICTED, "True", reason, message));
  }

  public static String condition(GenericKubernetesResource w, String type) {
    return conditions(w).stream()
        .filter(c -> type.equals(c.get("type")))
        .map(c -> (String) c.get("status"))
        .findFirst()
        .orElse(null);
  }

  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> conditions(GenericKubernetesResource w) {
    Object status = w.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> map) || !(map.get("conditions") instanceof List<?> list)) {
      return List.of();
    }
    return (List<Map<String, Object>>) list;
  }

  @SuppressWarnings("unchecked")
  private void editStatus(String name, java.util.function.Consumer<Map<String, Object>> change) {
    cluster
        .client
        .genericKubernetesResources(Workloads.WORKLOADS)
        .inNamespace(MockCluster.NS)
        .withName(name)
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

  @SuppressWarnings("unchecked")
  private static void set(
      Map<String, Object> status, String type, String value, String reason, String message) {
    List<Map<String, Object>> conditions = new ArrayList<>();
    if (status.get("conditions") instanceof List<?> list) {
      list.forEach(c -> conditions.add(new LinkedHashMap<>((Map<String, Object>) c)));
    }
    conditions.removeIf(c -> type.equals(c.get("type")));
    conditions.add(
        new LinkedHashMap<>(
            Map.of(
                "type",
                type,
                "status",
                value,
                "reason",
                reason,
                "message",
                message,
                "lastTransitionTime",
                Instant.now().toString())));
    status.put("conditions", conditions);
  }
}
