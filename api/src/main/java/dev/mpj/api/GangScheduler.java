package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The gang scheduler that places all of a job's pods at once, through a PodGroup. */
public enum GangScheduler {
  /** Volcano: a {@code scheduling.volcano.sh/v1beta1} PodGroup, pods with schedulerName volcano. */
  @JsonProperty("volcano")
  VOLCANO,
  /** scheduler-plugins coscheduling: a {@code scheduling.x-k8s.io/v1alpha1} PodGroup. */
  @JsonProperty("coscheduling")
  COSCHEDULING
}
