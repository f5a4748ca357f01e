package dev.mpj.operator.queue;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.SchedulingPolicySpec;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

/** Creates a job's PodGroup, or brings its spec (minMember first of all) up to date. I/O only. */
public final class GangGroups {
  private final KubernetesClient client;

  public GangGroups(KubernetesClient client) {
    this.client = client;
  }

  /**
   * Before the pods of a new attempt are created: the PodGroup for {@code replicas} pods like
   * {@code pod}. Nothing when the job has no gang scheduling.
   */
  public void ensure(MixedPrecisionJob job, int replicas, Pod pod) {
    SchedulingPolicySpec policy = PodGroups.policy(job);
    if (policy == null) {
      return;
    }
    GenericKubernetesResource desired = PodGroups.desired(job, policy, replicas, pod);
    var groups =
        client
            .genericKubernetesResources(PodGroups.context(policy.scheduler))
            .inNamespace(job.getMetadata().getNamespace());
    GenericKubernetesResource existing = groups.withName(PodGroups.name(job)).get();
    if (existing == null) {
      groups.resource(desired).create();
    } else if (!desired
        .getAdditionalProperties()
        .get("spec")
        .equals(existing.getAdditionalProperties().get("spec"))) {
      groups
          .withName(PodGroups.name(job))
          .edit(
              g -> {
                g.getAdditionalProperties()
                    .put("spec", desired.getAdditionalProperties().get("spec"));
                return g;
              });
    }
  }
}
