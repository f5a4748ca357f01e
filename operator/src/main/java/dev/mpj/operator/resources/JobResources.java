package dev.mpj.operator.resources;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Writes what a job owns to the API server. Thin: every decision was made before it is called. */
public final class JobResources {
  private final KubernetesClient client;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  public JobResources(KubernetesClient client) {
    this.client = client;
  }

  /**
   * The ConfigMap of this attempt, and the Service, Secret and checkpoint claim if they are
   * missing.
   */
  public void ensureChildren(MixedPrecisionJob job, SizingPlan plan, int coordinatorPort) {
    client.resource(JobChildren.configMap(job, plan)).createOr(NonDeletingOperation::update);
    createIfMissing(JobChildren.service(job, coordinatorPort));
    if (client.secrets().inNamespace(ns(job)).withName(JobNames.secret(job)).get() == null) {
      createIfMissing(JobChildren.secret(job));
    }
    var claim = JobChildren.checkpointClaim(job);
    if (claim != null) {
      createIfMissing(claim);
    }
  }

  /**
   * Replaces the job's status with {@code status}, as of the resourceVersion it was read at: if the
   * job changed since, the write fails and the reconcile is retried on fresh reads.
   */
  public void writeStatus(MixedPrecisionJob job, MixedPrecisionJobStatus status) {
    job.setStatus(status);
    client.resource(job).updateStatus();
  }

  /** Drops the token kept for the job of this uid (it was deleted). */
  public void forget(String uid) {
    tokens.remove(uid);
  }

  /** How many jobs' tokens are kept in memory. */
  public int tokensKept() {
    return tokens.size();
  }

  /** The job's token, from its Secret; null while there is none. */
  public String token(MixedPrecisionJob job) {
    String uid = job.getMetadata().getUid();
    String known = tokens.get(uid);
    if (known != null) {
      return known;
    }
    Secret secret = client.secrets().inNamespace(ns(job)).withName(JobNames.secret(job)).get();
    if (secret == null || !JobChildren.ownedBy(secret, job)) {
      return null;
    }
    String token = null;
    if (secret.getData() != null && secret.getData().get(JobNames.TOKEN_KEY) != null) {
      token =
          new String(
              Base64.getDecoder().decode(secret.getData().get(JobNames.TOKEN_KEY)),
              StandardCharsets.UTF_8);
    } else if (secret.getStringData() != null) {
      token = secret.getStringData().get(JobNames.TOKEN_KEY);
    }
    if (token != null) {
      tokens.put(uid, token);
    }
    return token;
  }

  /** The job's replica pods of every attempt, as the API server has them now, by name. */
  public List<Pod> pods(MixedPrecisionJob job) {
    return client
        .pods()
        .inNamespace(ns(job))
        .withLabels(Labels.podSelector(job))
        .list()
        .getItems()
        .stream()
        .filter(pod -> JobChildren.ownedBy(pod, job))
        .sorted(Comparator.comparing(pod -> pod.getMetadata().getName()))
        .toList();
  }

  public void createPods(List<Pod> pods) {
    pods.forEach(this::createIfMissing);
  }

  /** Deletes pods gracefully: each trainer gets SIGTERM and its grace period to checkpoint. */
  public void stopPods(String namespace, List<String> names) {
    for (String name : names) {
      client.pods().inNamespace(namespace).withName(name).delete();
    }
  }

  /**
   * Deletes the job and everything it owns (a real cluster's garbage collector would do the latter
   * too).
   */
  public void deleteJobAndOwned(MixedPrecisionJob job) {
    String namespace = ns(job);
    for (Pod pod :
        client
            .pods()
            .inNamespace(namespace)
            .withLabels(Labels.podSelector(job))
            .list()
            .getItems()) {
      if (JobChildren.ownedBy(pod, job)) {
        client.resource(pod).delete();
      }
    }
    deleteIfOwned(
        client.configMaps().inNamespace(namespace).withName(JobNames.configMap(job)).get(), job);
    deleteIfOwned(
        client.services().inNamespace(namespace).withName(JobNames.service(job)).get(), job);
    deleteIfOwned(
        client.secrets().inNamespace(namespace).withName(JobNames.secret(job)).get(), job);
    deleteIfOwned(
        client
            .persistentVolumeClaims()
            .inNamespace(namespace)
            .withName(JobNames.checkpointClaim(job))
            .get(),
        job);
    client.resource(job).delete();
    tokens.remove(job.getMetadata().getUid());
  }

  private void deleteIfOwned(HasMetadata object, MixedPrecisionJob job) {
    if (object != null && JobChildren.ownedBy(object, job)) {
      client.resource(object).delete();
    }
  }

  private void createIfMissing(HasMetadata object) {
    try {
      client.resource(object).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  private static String ns(MixedPrecisionJob job) {
    return job.getMetadata().getNamespace();
  }
}
