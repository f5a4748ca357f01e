package dev.mpj.operator.queue;

import dev.mpj.api.MixedPrecisionJob;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads and writes a job's Kueue Workload and the ResourceFlavors it was admitted to. I/O only. */
public final class KueueQueue {
  private static final Logger LOG = LoggerFactory.getLogger(KueueQueue.class);

  private final KubernetesClient client;

  public KueueQueue(KubernetesClient client) {
    this.client = client;
  }

  /** The job's Workload, or null when there is none. */
  public GenericKubernetesResource workload(MixedPrecisionJob job) {
    return client
        .genericKubernetesResources(Workloads.WORKLOADS)
        .inNamespace(job.getMetadata().getNamespace())
        .withName(Workloads.name(job))
        .get();
  }

  /** Where the admitted pods must go: the assigned flavors' node labels and tolerations. */
  public Workloads.Placement placement(Admission admission) {
    List<GenericKubernetesResource> flavors = new ArrayList<>();
    for (String name : admission.flavors()) {
      GenericKubernetesResource flavor =
          client.genericKubernetesResources(Workloads.RESOURCE_FLAVORS).withName(name).get();
      if (flavor == null) {
        LOG.warn("ResourceFlavor {} of an admitted Workload does not exist; ignoring it", name);
      } else {
        flavors.add(flavor);
      }
    }
    return Workloads.placement(flavors);
  }

  /** The value of a PriorityClass, or null when it does not exist or cannot be read. */
  public Integer priority(String priorityClass) {
    if (priorityClass == null) {
      return null;
    }
    try {
      var pc = client.scheduling().v1().priorityClasses().withName(priorityClass).get();
      return pc == null ? null : pc.getValue();
    } catch (KubernetesClientException e) {
      LOG.warn("cannot read PriorityClass {}: {}", priorityClass, e.getMessage());
      return null;
    }
  }

  public void create(MixedPrecisionJob job, Pod pod, int count, int minCount) {
    GenericKubernetesResource desired =
        Workloads.desired(
            job, pod, count, minCount, priority(pod.getSpec().getPriorityClassName()));
    try {
      client.genericKubernetesResources(Workloads.WORKLOADS).resource(desired).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /** Changes the Workload's status (Kueue's status subresource), from the newest copy. */
  public void editStatus(MixedPrecisionJob job, UnaryOperator<GenericKubernetesResource> change) {
    client
        .genericKubernetesResources(Workloads.WORKLOADS)
        .inNamespace(job.getMetadata().getNamespace())
        .withName(Workloads.name(job))
        .editStatus(change);
  }

  public void apply(MixedPrecisionJob job, QueueStep step, Instant now) {
    if (step instanceof QueueStep.ReleaseQuota r) {
      editStatus(
          job,
          w -> {
            Workloads.releaseQuota(w, r.message(), now);
            return w;
          });
    } else if (step instanceof QueueStep.Finish f) {
      editStatus(
          job,
          w -> {
            Workloads.finish(w, f.succeeded(), f.message(), now);
            return w;
          });
    }
  }
}
