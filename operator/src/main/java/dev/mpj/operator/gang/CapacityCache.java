package dev.mpj.operator.gang;

import dev.mpj.api.TrainerContract;
import dev.mpj.operator.sizing.ClusterCapacity;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ReducedStateItemStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What sizing reads of the cluster, kept current by a watch of the nodes and one of the bound,
 * unfinished pods of every namespace, instead of a LIST of both per new attempt.
 *
 * <p>Kept, per node: its name, labels, whether it is cordoned and its allocatable GPUs (not its
 * status images, conditions or addresses); per pod that holds GPUs on a node: the node, the GPUs
 * and the uids of its owners. The informers themselves keep only each object's key and resource
 * version ({@link ReducedStateItemStore}); a pod that requests no GPU costs its key alone. The pod
 * watch asks the API server only for bound pods that have not finished ({@code
 * spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed}).
 */
final class CapacityCache implements AutoCloseable {

  /** The GPUs one pod holds on its node, and the uids of the objects that own it. */
  record GpuHold(String node, long gpus, List<String> ownerUids) {
    /** The hold of {@code pod}, or null when it holds no GPU: unbound, finished, or none asked. */
    static GpuHold of(Pod pod) {
      if (!ClusterCapacity.holdsNode(pod)) {
        return null;
      }
      long gpus = ClusterCapacity.gpuRequest(pod);
      if (gpus <= 0) {
        return null;
      }
      List<String> owners =
          pod.getMetadata().getOwnerReferences() == null
              ? List.of()
              : pod.getMetadata().getOwnerReferences().stream()
                  .map(OwnerReference::getUid)
                  .toList();
      return new GpuHold(pod.getSpec().getNodeName(), gpus, owners);
    }
  }

  private final SharedIndexInformer<Node> nodeInformer;
  private final SharedIndexInformer<Pod> podInformer;
  private final Map<String, Node> nodes = new ConcurrentHashMap<>();
  private final Map<String, GpuHold> holds = new ConcurrentHashMap<>();

  private CapacityCache(KubernetesClient client) {
    var serialization = client.getKubernetesSerialization();
    nodeInformer =
        client
            .nodes()
            .runnableInformer(0)
            .itemStore(
                new ReducedStateItemStore<>(
                    ReducedStateItemStore.NAME_KEY_STATE, Node.class, serialization));
    nodeInformer.addEventHandler(keeping(nodes, CapacityCache::sizingView));
    podInformer =
        client
            .pods()
            .inAnyNamespace()
            .withoutField("spec.nodeName", "")
            .withoutField("status.phase", "Succeeded")
            .withoutField("status.phase", "Failed")
            .runnableInformer(0)
            .itemStore(
                new ReducedStateItemStore<>(
                    ReducedStateItemStore.NAME_KEY_STATE, Pod.class, serialization));
    podInformer.addEventHandler(keeping(holds, GpuHold::of));
  }

  /** Starts both watches; {@link #current()} says when they have listed and watch. */
  static CapacityCache start(KubernetesClient client) {
    CapacityCache cache = new CapacityCache(client);
    cache.nodeInformer.start();
    cache.podInformer.start();
    return cache;
  }

  /**
   * Whether both watches have listed and are watching. While one is not (starting, or reconnecting
   * after a dropped watch), {@link ClusterObserver} reads the cluster itself.
   */
  boolean current() {
    return nodeInformer.hasSynced()
        && podInformer.hasSynced()
        && nodeInformer.isWatching()
        && podInformer.isWatching();
  }

  /** The capacity for a new attempt of the job of {@code jobUid}: its own pods do not count. */
  ClusterCapacity capacityFor(String jobUid, Map<String, String> nodeSelector, int gpusPerReplica) {
    Map<String, Long> requested = new HashMap<>();
    for (GpuHold hold : holds.values()) {
      if (!hold.ownerUids().contains(jobUid)) {
        requested.merge(hold.node(), hold.gpus(), Long::sum);
      }
    }
    return ClusterCapacity.observe(
        List.copyOf(nodes.values()), requested, nodeSelector, gpusPerReplica);
  }

  /**
   * A node as sizing reads it: name, labels, whether it is cordoned, and its allocatable GPUs (a
   * node's status images and conditions can be tens of KiB).
   */
  static Node sizingView(Node node) {
    Map<String, Quantity> allocatable =
        node.getStatus() != null && node.getStatus().getAllocatable() != null
            ? node.getStatus().getAllocatable()
            : Map.of();
    Quantity gpus = allocatable.get(TrainerContract.GPU_RESOURCE);
    return new NodeBuilder()
        .withNewMetadata()
        .withName(node.getMetadata().getName())
        .withLabels(node.getMetadata().getLabels())
        .endMetadata()
        .withNewSpec()
        .withUnschedulable(node.getSpec() != null ? node.getSpec().getUnschedulable() : null)
        .endSpec()
        .withNewStatus()
        .withAllocatable(gpus == null ? Map.of() : Map.of(TrainerContract.GPU_RESOURCE, gpus))
        .endStatus()
        .build();
  }

  /** Keeps {@code view} of each object by its informer key; a null view is not kept. */
  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata, V>
      ResourceEventHandler<T> keeping(Map<String, V> kept, Function<T, V> view) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T object) {
        put(object);
      }

      @Override
      public void onUpdate(T before, T object) {
        put(object);
      }

      @Override
      public void onDelete(T object, boolean finalStateUnknown) {
        kept.remove(Cache.metaNamespaceKeyFunc(object));
      }

      private void put(T object) {
        V value = view.apply(object);
        if (value == null) {
          kept.remove(Cache.metaNamespaceKeyFunc(object));
        } else {
          kept.put(Cache.metaNamespaceKeyFunc(object), value);
        }
      }
    };
  }

  @Override
  public void close() {
    nodeInformer.close();
    podInformer.close();
  }
}
