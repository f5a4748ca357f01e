package dev.mpj.operator.queue;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.KubernetesNames.Rule;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kueue's Workload for a job, by the protocol Kueue documents for job controllers outside its tree,
 * in {@code kueue.x-k8s.io/v1beta2} (the version Kueue stores since v0.16; served since v0.15).
 * Pure functions: the desired Workload, and the status changes the job controller owes Kueue.
 */
public final class Workloads {
  public static final String GROUP = "kueue.x-k8s.io";
  public static final String VERSION = "v1beta2";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String QUOTA_RESERVED = "QuotaReserved";
  public static final String ADMITTED = "Admitted";
  public static final String EVICTED = "Evicted";
  public static final String FINISHED = "Finished";

  /** The label Kueue's job frameworks put on a Workload: the uid of the job it stands for. */
  public static final String JOB_UID = "kueue.x-k8s.io/job-uid";

  /** The one pod set: every replica runs the same pod. */
  public static final String POD_SET = "worker";

  public static final ResourceDefinitionContext WORKLOADS =
      new ResourceDefinitionContext.Builder()
          .withGroup(GROUP)
          .withVersion(VERSION)
          .withKind("Workload")
          .withPlural("workloads")
          .withNamespaced(true)
          .build();

  public static final ResourceDefinitionContext RESOURCE_FLAVORS =
      new ResourceDefinitionContext.Builder()
          .withGroup(GROUP)
          .withVersion(VERSION)
          .withKind("ResourceFlavor")
          .withPlural("resourceflavors")
          .withNamespaced(false)
          .build();

  private Workloads() {}

  /** The job's queue (its {@code kueue.x-k8s.io/queue-name} label), or null: not queued. */
  public static String queue(MixedPrecisionJob job) {
    Map<String, String> labels = job.getMetadata().getLabels();
    String queue = labels == null ? null : labels.get(Labels.KUEUE_QUEUE_NAME);
    return queue == null || queue.isBlank() ? null : queue;
  }

  public static String name(MixedPrecisionJob job) {
    return JobNames.child(job.getMetadata().getName(), "-workload", Rule.DNS1123_SUBDOMAIN);
  }

  /**
   * The Workload: one pod set of {@code count} pods like {@code pod} (the requests the sizing
   * chose), {@code minCount} for partial admission when below {@code count}, and the pods'
   * PriorityClass with its value ({@code priority}, null when the class is unknown: then none).
   */
  public static GenericKubernetesResource desired(
      MixedPrecisionJob job, Pod pod, int count, int minCount, Integer priority) {
    Map<String, Object> template = new LinkedHashMap<>();
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("labels", pod.getMetadata().getLabels());
    metadata.put("annotations", pod.getMetadata().getAnnotations());
    template.put("metadata", metadata);
    template.put("spec", Serialization.jsonMapper().convertValue(pod.getSpec(), Map.class));

    Map<String, Object> podSet = new LinkedHashMap<>();
    podSet.put("name", POD_SET);
    podSet.put("count", count);
    if (minCount < count) {
      podSet.put("minCount", minCount);
    }
    podSet.put("template", template);

    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("queueName", queue(job));
    spec.put("podSets", List.of(podSet));
    String priorityClass = pod.getSpec().getPriorityClassName();
    if (priorityClass != null && priority != null) {
      spec.put(
          "priorityClassRef",
          Map.of("group", "scheduling.k8s.io", "kind", "PriorityClass", "name", priorityClass));
      spec.put("priority", priority);
    }
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(API_VERSION)
        .withKind("Workload")
        .withNewMetadata()
        .withName(name(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Map.of(JOB_UID, job.getMetadata().getUid()))
        .withOwnerReferences(JobChildren.ownerReference(job))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  /**
   * After an eviction, once the job's pods are gone: the quota reservation is released (no
   * admission, QuotaReserved and Admitted False), so that Kueue can queue it again.
   */
  public static void releaseQuota(GenericKubernetesResource workload, String message, Instant now) {
    Map<String, Object> status = status(workload);
    status.remove("admission");
    setCondition(status, QUOTA_RESERVED, false, "Pending", message, now);
    setCondition(
        status, ADMITTED, false, "NoReservation", "the quota reservation was released", now);
  }

  /** The job ended: Finished with Succeeded or Failed, which releases the quota for good. */
  public static void finish(
      GenericKubernetesResource workload, boolean succeeded, String message, Instant now) {
    setCondition(
        status(workload), FINISHED, true, succeeded ? "Succeeded" : "Failed", message, now);
  }

  /** The node selector and tolerations of the assigned flavors, from their ResourceFlavors. */
  public static Placement placement(List<GenericKubernetesResource> flavors) {
    Map<String, String> selector = new LinkedHashMap<>();
    List<Toleration> tolerations = new ArrayList<>();
    for (GenericKubernetesResource flavor : flavors) {
      var spec = Serialization.jsonMapper().valueToTree(flavor).path("spec");
      spec.path("nodeLabels")
          .fields()
          .forEachRemaining(e -> selector.put(e.getKey(), e.getValue().asText()));
      for (var t : spec.path("tolerations")) {
        Toleration toleration = Serialization.jsonMapper().convertValue(t, Toleration.class);
        if (!tolerations.contains(toleration)) {
          tolerations.add(toleration);
        }
      }
    }
    return new Placement(Map.copyOf(selector), List.copyOf(tolerations));
  }

  /** Where an admitted job's pods must go: the flavors' node labels and tolerations. */
  public record Placement(Map<String, String> nodeSelector, List<Toleration> tolerations) {
    public static final Placement ANYWHERE = new Placement(Map.of(), List.of());

    /** The pod, with the placement added to its own node selector and tolerations. */
    public Pod apply(Pod pod) {
      if (nodeSelector.isEmpty() && tolerations.isEmpty()) {
        return pod;
      }
      Map<String, String> selector = new LinkedHashMap<>();
      if (pod.getSpec().getNodeSelector() != null) {
        selector.putAll(pod.getSpec().getNodeSelector());
      }
      selector.putAll(nodeSelector);
      List<Toleration> all = new ArrayList<>();
      if (pod.getSpec().getTolerations() != null) {
        all.addAll(pod.getSpec().getTolerations());
      }
      tolerations.stream().filter(t -> !all.contains(t)).forEach(all::add);
      pod.getSpec().setNodeSelector(selector);
      pod.getSpec().setTolerations(all);
      return pod;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> status(GenericKubernetesResource workload) {
    Object status = workload.getAdditionalProperties().get("status");
    if (!(status instanceof Map)) {
      status = new LinkedHashMap<String, Object>();
      workload.getAdditionalProperties().put("status", status);
    }
    return (Map<String, Object>) status;
  }

  @SuppressWarnings("unchecked")
  private static void setCondition(
      Map<String, Object> status,
      String type,
      boolean value,
      String reason,
      String message,
      Instant now) {
    List<Map<String, Object>> conditions = new ArrayList<>();
    if (status.get("conditions") instanceof List<?> list) {
      list.forEach(c -> conditions.add(new LinkedHashMap<>((Map<String, Object>) c)));
    }
    String value1 = value ? "True" : "False";
    Map<String, Object> old =
        conditions.stream().filter(c -> type.equals(c.get("type"))).findFirst().orElse(null);
    Map<String, Object> next = new LinkedHashMap<>();
    next.put("type", type);
    next.put("status", value1);
    next.put("reason", reason);
    next.put("message", message == null ? "" : message);
    next.put(
        "lastTransitionTime",
        old != null && value1.equals(old.get("status")) && old.get("lastTransitionTime") != null
            ? old.get("lastTransitionTime")
            : now.toString());
    if (old != null) {
      conditions.set(conditions.indexOf(old), next);
    } else {
      conditions.add(next);
    }
    status.put("conditions", conditions);
  }
}
