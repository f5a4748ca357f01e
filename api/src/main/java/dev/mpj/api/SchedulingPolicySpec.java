package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * Gang scheduling, named as Kubeflow's runPolicy.schedulingPolicy: the operator creates a PodGroup
 * whose minMember is the replica count it chose, so the scheduler places all replicas or none.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SchedulingPolicySpec {
  @Required
  @JsonPropertyDescription(
      "volcano (a scheduling.volcano.sh/v1beta1 PodGroup; the pods get schedulerName volcano) or"
          + " coscheduling (a scheduler-plugins scheduling.x-k8s.io/v1alpha1 PodGroup; the pods keep"
          + " template.schedulerName, which should name the scheduler-plugins scheduler).")
  public GangScheduler scheduler;

  @JsonPropertyDescription("volcano: the Volcano queue of the PodGroup.")
  public String queue;

  @JsonPropertyDescription(
      "volcano: the PriorityClass of the PodGroup (default: template.priorityClassName).")
  public String priorityClass;

  @Min(1)
  @JsonPropertyDescription(
      "coscheduling: seconds the scheduler waits for the whole gang before it gives up a try.")
  public Integer scheduleTimeoutSeconds;
}
