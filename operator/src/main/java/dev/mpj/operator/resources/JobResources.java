package dev.mpj.operator.resources;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Writes what a job owns to the API server. Thin: every decision was made before it is called. */
public final class JobResources {
  private final KubernetesClient client;
  private final JobTokens tokens;

  public JobResources(KubernetesClient client, JobTokens tokens) {
    this.client = client;
    this.tokens = tokens;
  }

  /**
   * The ConfigMap of this attempt, and the Service, Secret and checkpoint claim if they are
   * missing.
   */
  public void ensureChildren(MixedPrecisionJob job, SizingPlan plan, int coordinatorPort) {
    client.resource(JobChildren.configMap(job, plan)).createOr(NonDeletingOperation::update);
    createIfMissing(JobChildren.service(job, coordinatorPort));
    // Created, never read: if it exists, it holds the same token (derived from the job's uid).
    createIfMissing(JobChildren.secret(job, tokens.token(job)));
    var claim = JobChildren.checkpointClaim(job);
    if (claim != null) {
      createIfMissing(claim);
    }
  }

  /**
   * Writes the job's status, as of the resourceVersion it was read at: if the job changed since,
   * the API server refuses the write (409) and the reconcile runs again on the newer job. With
   * {@code serverSideApply}, a server-side apply of the whole status by {@code fieldManager} (the
   * patch JOSDK's {@code PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource} sends, without
   * its retry of the same status on a newer job): fields this operator set before and left out now
   * are removed. Else a replace of the status (an API server without server-side apply).
   *
   * @return the job as the API server stored it
   */
  public MixedPrecisionJob writeStatus(
      MixedPrecisionJob job,
      MixedPrecisionJobStatus status,
      boolean serverSideApply,
      String fieldManager) {
    if (!serverSideApply) {
      job.setStatus(status);
      return client.resource(job).updateStatus();
    }
    MixedPrecisionJob applied = new MixedPrecisionJob();
    applied.setMetadata(
        new ObjectMetaBuilder()
            .withName(job.getMetadata().getName())
            .withNamespace(ns(job))
            .withResourceVersion(job.getMetadata().getResourceVersion())
            .build());
    applied.setSpec(null);
    applied.setStatus(status);
    return client
        .resource(applied)
        .subresource("status")
        .patch(
            new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY)
                .withFieldManager(fieldManager)
                .withForce(true)
                .build());
  }

  /** The job's token, as its Secret holds it: derived, not read ({@link JobTokens}). */
  public String token(MixedPrecisionJob job) {
    return tokens.token(job);
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

  /** Creates the pods that do not exist yet; returns those created, as the API server has them. */
  public List<Pod> createPods(List<Pod> pods) {
    List<Pod> created = new ArrayList<>();
    for (Pod pod : pods) {
      Pod stored = createIfMissing(pod);
      if (stored != null) {
        created.add(stored);
      }
    }
    return created;
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
    // Not its token Secret: the operator may only create Secrets; the garbage collector deletes it
    // with the job (its owner).
    deleteIfOwned(
        client
            .persistentVolumeClaims()
            .inNamespace(namespace)
            .withName(JobNames.checkpointClaim(job))
            .get(),
        job);
    client.resource(job).delete();
  }

  private void deleteIfOwned(HasMetadata object, MixedPrecisionJob job) {
    if (object != null && JobChildren.ownedBy(object, job)) {
      client.resource(object).delete();
    }
  }

  /** The object created, or null when one of its name exists. */
  private <T extends HasMetadata> T createIfMissing(T object) {
    try {
      return client.resource(object).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      return null;
    }
  }

  private static String ns(MixedPrecisionJob job) {
    return job.getMetadata().getNamespace();
  }
}
