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

/**
 * Reads what the cluster offers a job when it is sized: nodes and the GPUs their pods hold.
 *
 * <p>From a {@link CapacityCache} (a watch of the nodes and one of the bound, unfinished pods of
 * every namespace, started at the first sizing) once it has listed and watches; until then, and
 * whenever a watch is down, by reading the nodes and pods directly. The cache may lag the API
 * server by a watch event: a job sized right after another job's pods were bound may count their
 * GPUs as free. That is an estimate, not a placement: the scheduler places the pods, and those that
 * do not fit stay Pending until GPUs free up, as they would with a job sized a moment before the
 * other started.
 */
public final class ClusterObserver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterObserver.class);

  private final KubernetesClient client;
  private CapacityCache cache;
  private boolean closed;

  public ClusterObserver(KubernetesClient client) {
    this.client = client;
  }

  /** The capacity for a new attempt of {@code job}; its own pods do not count as taken. */
  public ClusterCapacity capacityFor(MixedPrecisionJob job) {
    var template = job.getSpec().template;
    Map<String, String> selector =
        template == null || template.nodeSelector == null ? Map.of() : template.nodeSelector;
    int gpusPerReplica = job.getSpec().resources.gpusPerReplica;
    CapacityCache current = cache();
    if (current != null && current.current()) {
      return current.capacityFor(job.getMetadata().getUid(), selector, gpusPerReplica);
    }
    try {
      List<Node> nodes = client.nodes().list().getItems();
      List<Pod> others =
          client.pods().inAnyNamespace().list().getItems().stream()
              .filter(p -> !JobChildren.ownedBy(p, job))
              .toList();
      return ClusterCapacity.observe(nodes, others, selector, gpusPerReplica);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "cannot read nodes and pods for sizing ({}); sizing without cluster figures",
          e.getMessage());
      return ClusterCapacity.unknown();
    }
  }

  /** The cache, started at the first call; null without one. */
  private synchronized CapacityCache cache() {
    if (cache == null && !closed) {
      try {
        cache = CapacityCache.start(client);
      } catch (KubernetesClientException e) {
        LOG.warn(
            "cannot watch nodes and pods for sizing ({}); reading them each time", e.getMessage());
        closed = true;
      }
    }
    return cache;
  }

  /** Stops the watches. */
  @Override
  public synchronized void close() {
    closed = true;
    if (cache != null) {
      cache.close();
      cache = null;
    }
  }
}
