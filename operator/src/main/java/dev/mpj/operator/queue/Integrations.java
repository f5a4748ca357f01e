package dev.mpj.operator.queue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queueing integrations the cluster offers, found at start-up through API discovery (which
 * needs no extra permission).
 *
 * @param kueue Kueue serves {@code kueue.x-k8s.io/v1beta2} Workloads: jobs with the queue label
 *     wait for admission
 */
public record Integrations(boolean kueue, boolean volcano, boolean coscheduling) {
  private static final Logger LOG = LoggerFactory.getLogger(Integrations.class);

  public static final Integrations NONE = new Integrations(false, false, false);

  /** Looks, and says in one log line which integrations are active. */
  public static Integrations detect(KubernetesClient client) {
    Integrations found =
        new Integrations(
            serves(client, Workloads.API_VERSION, "Workload"),
            serves(client, "scheduling.volcano.sh/v1beta1", "PodGroup"),
            serves(client, "scheduling.x-k8s.io/v1alpha1", "PodGroup"));
    LOG.info(
        "integrations: Kueue {}; Volcano PodGroups {}; coscheduling PodGroups {}",
        found.kueue()
            ? "active ("
                + Workloads.API_VERSION
                + " Workloads; jobs with the queue label wait for"
                + " admission)"
            : "not found (no "
                + Workloads.API_VERSION
                + " Workloads served; the queue label is"
                + " only passed to the pods)",
        found.volcano() ? "available" : "not found",
        found.coscheduling() ? "available" : "not found");
    return found;
  }

  private static boolean serves(KubernetesClient client, String apiVersion, String kind) {
    try {
      return client.supports(apiVersion, kind);
    } catch (KubernetesClientException e) {
      LOG.warn("cannot discover {} ({}); treating it as absent", apiVersion, e.getMessage());
      return false;
    }
  }
}
