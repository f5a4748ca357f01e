package dev.mpj.operator.queue;

import dev.mpj.api.GangScheduler;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.RunPolicySpec;
import dev.mpj.api.SchedulingPolicySpec;
import dev.mpj.api.validation.KubernetesNames.Rule;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The PodGroup that makes a gang scheduler place all of a job's replicas or none: Volcano's ({@code
 * scheduling.volcano.sh/v1beta1}) or scheduler-plugins coscheduling's ({@code
 * scheduling.x-k8s.io/v1alpha1}), and what the pods carry to join it. Pure functions.
 */
public final class PodGroups {
  /** The annotation that puts a pod into a Volcano PodGroup. */
  public static final String VOLCANO_GROUP = "scheduling.k8s.io/group-name";

  public static final String VOLCANO_SCHEDULER = "volcano";

  /** The label that puts a pod into a coscheduling PodGroup. */
  public static final String COSCHEDULING_GROUP = "scheduling.x-k8s.io/pod-group";

  public static final ResourceDefinitionContext VOLCANO =
      context("scheduling.volcano.sh", "v1beta1");
  public static final ResourceDefinitionContext COSCHEDULING =
      context("scheduling.x-k8s.io", "v1alpha1");

  private PodGroups() {}

  /** The job's gang scheduling, or null when it has none (or no spec: the validator says so). */
  public static SchedulingPolicySpec policy(MixedPrecisionJob job) {
    if (job.getSpec() == null) {
      return null;
    }
    RunPolicySpec run = job.getSpec().runPolicy;
    return run == null || run.schedulingPolicy == null || run.schedulingPolicy.scheduler == null
        ? null
        : run.schedulingPolicy;
  }

  /** The reason of a job that failed because its gang scheduler is not there. */
  public static final String UNAVAILABLE = "GangSchedulerUnavailable";

  /**
   * Why the job's gang scheduler cannot be used by this operator, naming the field; null when the
   * job asks for none or its PodGroups are served (and not switched off).
   */
  public static String unavailable(MixedPrecisionJob job, Integrations integrations) {
    SchedulingPolicySpec policy = policy(job);
    if (policy == null) {
      return null;
    }
    boolean volcano = policy.scheduler == GangScheduler.VOLCANO;
    if (volcano ? integrations.volcano() : integrations.coscheduling()) {
      return null;
    }
    ResourceDefinitionContext context = context(policy.scheduler);
    return "spec.runPolicy.schedulingPolicy.scheduler is "
        + (volcano ? "volcano" : "coscheduling")
        + ", but this operator has no "
        + context.getGroup()
        + "/"
        + context.getVersion()
        + " PodGroups: "
        + (volcano ? "Volcano" : "scheduler-plugins coscheduling")
        + " is not installed, or the chart's integrations."
        + (volcano ? "volcano" : "coscheduling")
        + " is disabled (the operator looks at start-up); without a PodGroup its pods would wait"
        + " for the gang scheduler forever";
  }

  public static ResourceDefinitionContext context(GangScheduler scheduler) {
    return scheduler == GangScheduler.VOLCANO ? VOLCANO : COSCHEDULING;
  }

  /** A valid label value and object name whatever the job's name. */
  public static String name(MixedPrecisionJob job) {
    return JobNames.child(job.getMetadata().getName(), "-gang", Rule.DNS1123_LABEL);
  }

  /**
   * The PodGroup for {@code minMember} replicas like {@code pod}: Volcano's with queue, priority
   * class and minResources (the gang's requests), coscheduling's with scheduleTimeoutSeconds.
   */
  public static GenericKubernetesResource desired(
      MixedPrecisionJob job, SchedulingPolicySpec policy, int minMember, Pod pod) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("minMember", minMember);
    if (policy.scheduler == GangScheduler.VOLCANO) {
      if (policy.queue != null) {
        spec.put("queue", policy.queue);
      }
      String priority =
          policy.priorityClass != null
              ? policy.priorityClass
              : pod.getSpec().getPriorityClassName();
      if (priority != null) {
        spec.put("priorityClassName", priority);
      }
      spec.put("minResources", minResources(pod, minMember));
    } else if (policy.scheduleTimeoutSeconds != null) {
      spec.put("scheduleTimeoutSeconds", policy.scheduleTimeoutSeconds);
    }
    ResourceDefinitionContext context = context(policy.scheduler);
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(context.getGroup() + "/" + context.getVersion())
        .withKind("PodGroup")
        .withNewMetadata()
        .withName(name(job))
        .withNamespace(job.getMetadata().getNamespace())
        .withOwnerReferences(JobChildren.ownerReference(job))
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  /** The pod, in the job's PodGroup. */
  public static Pod join(MixedPrecisionJob job, Pod pod) {
    SchedulingPolicySpec policy = policy(job);
    if (policy == null) {
      return pod;
    }
    if (policy.scheduler == GangScheduler.VOLCANO) {
      pod.getMetadata().getAnnotations().put(VOLCANO_GROUP, name(job));
      pod.getSpec().setSchedulerName(VOLCANO_SCHEDULER);
    } else {
      pod.getMetadata().getLabels().put(COSCHEDULING_GROUP, name(job));
    }
    return pod;
  }

  /** The PodGroup's minMember, or null when it has none. */
  public static Integer minMember(GenericKubernetesResource group) {
    if (group == null || !(group.getAdditionalProperties().get("spec") instanceof Map<?, ?> spec)) {
      return null;
    }
    return spec.get("minMember") instanceof Number n ? n.intValue() : null;
  }

  /** The requests of {@code count} pods like {@code pod}, summed per resource. */
  static Map<String, String> minResources(Pod pod, int count) {
    Map<String, Quantity> sum = new TreeMap<>();
    for (Container c : pod.getSpec().getContainers()) {
      if (c.getResources() == null || c.getResources().getRequests() == null) {
        continue;
      }
      c.getResources().getRequests().forEach((k, v) -> sum.merge(k, v, Quantity::add));
    }
    Map<String, String> total = new TreeMap<>();
    sum.forEach((k, v) -> total.put(k, v.multiply(count).toString()));
    return total;
  }

  private static ResourceDefinitionContext context(String group, String version) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(group)
        .withVersion(version)
        .withKind("PodGroup")
        .withPlural("podgroups")
        .withNamespaced(true)
        .build();
  }
}
