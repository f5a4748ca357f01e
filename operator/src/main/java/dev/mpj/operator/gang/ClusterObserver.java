package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.sizing.ClusterCapacity;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads what the cluster offers a job when it is sized: nodes and the GPUs their pods hold. */
public final class ClusterObserver {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterObserver.class);

  private final KubernetesClient client;

  public ClusterObserver(KubernetesClient client) {
    this.client = client;
  }

  /** The capacity for a new attempt of {@code job}; its own pods do not count as taken. */
  public ClusterCapacity capacityFor(MixedPrecisionJob job) {
    try {
      List<Node> nodes = client.nodes().list().getItems();
      List<Pod> others =
          client.pods().inAnyNamespace().list().getItems().stream()
              .filter(p -> !JobChildren.ownedBy(p, job))
              .toList();
      var template = job.getSpec().template;
      Map<String, String> selector =
          template == null || template.nodeSelector == null ? Map.of() : template.nodeSelector;
      return ClusterCapacity.observe(
          nodes, others, selector, job.getSpec().resources.gpusPerReplica);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "cannot read nodes and pods for sizing ({}); sizing without cluster figures",
          e.getMessage());
      return ClusterCapacity.unknown();
    }
  }
}
