package dev.mpj.operator.resources;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;

/** The desired ConfigMap, Service, Secret and checkpoint claim of a job. Pure functions. */
public final class JobChildren {

  private JobChildren() {}

  /** The trainer config of one attempt: the spec plus the sizing decision. */
  public static TrainerConfig trainerConfig(MixedPrecisionJob job, SizingPlan plan) {
    TrainerConfig config = new TrainerConfig();
    config.jobName = job.getMetadata().getName();
    config.namespace = job.getMetadata().getNamespace();
    config.spec = AttemptSpec.of(job);
    if (AttemptSpec.fellBackToFp32(job)) {
      config.resumeMixedAsFp32 = true;
    }
    config.referenceParity = ReferenceRun.trainerConfig(job);
    config.replicas = plan.replicas();
    config.microBatch = plan.microBatch();
    config.gradientAccumulation = plan.gradientAccumulation();
    return config;
  }

  public static ConfigMap configMap(MixedPrecisionJob job, SizingPlan plan) {
    return new ConfigMapBuilder()
        .withMetadata(meta(job, JobNames.configMap(job), "config"))
        .withData(Map.of(JobNames.CONFIG_KEY, JobFiles.toYaml(trainerConfig(job, plan))))
        .build();
  }

  /**
   * Headless, and publishes pods before they are ready: the gang meets at rank 0 while starting.
   */
  public static Service service(MixedPrecisionJob job, int coordinatorPort) {
    return new ServiceBuilder()
        .withMetadata(meta(job, JobNames.service(job), "rendezvous"))
        .withNewSpec()
        .withClusterIP("None")
        .withPublishNotReadyAddresses(true)
        .withSelector(Labels.podSelector(job))
        .addNewPort()
        .withName(TrainerContract.PORT_COORDINATOR)
        .withPort(coordinatorPort)
        .withNewTargetPort(TrainerContract.PORT_COORDINATOR)
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * The job's token Secret, holding {@code token} ({@link JobTokens}): the gang's rendezvous and
   * the progress endpoint both require it.
   */
  public static Secret secret(MixedPrecisionJob job, String token) {
    return new SecretBuilder()
        .withMetadata(meta(job, JobNames.secret(job), "token"))
        .withType("Opaque")
        .withStringData(Map.of(JobNames.TOKEN_KEY, token))
        .build();
  }

  /** The checkpoint claim, or null when the job brings its own claim or none. */
  public static PersistentVolumeClaim checkpointClaim(MixedPrecisionJob job) {
    var volume = job.getSpec().checkpoint == null ? null : job.getSpec().checkpoint.volume;
    if (volume == null || volume.size == null) {
      return null;
    }
    return new PersistentVolumeClaimBuilder()
        .withMetadata(meta(job, JobNames.checkpointClaim(job), "checkpoints"))
        .withNewSpec()
        .withAccessModes("ReadWriteOnce")
        .withStorageClassName(volume.storageClassName)
        .withNewResources()
        .withRequests(Map.of("storage", volume.size))
        .endResources()
        .endSpec()
        .build();
  }

  public static OwnerReference ownerReference(MixedPrecisionJob job) {
    return new OwnerReferenceBuilder()
        .withApiVersion(job.getApiVersion())
        .withKind(job.getKind())
        .withName(job.getMetadata().getName())
        .withUid(job.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /**
   * Whether the object is owned by this job (by uid: a job re-created under the same name owns
   * nothing old).
   */
  public static boolean ownedBy(HasMetadata object, MixedPrecisionJob job) {
    return object.getMetadata().getOwnerReferences().stream()
        .anyMatch(ref -> job.getMetadata().getUid().equals(ref.getUid()));
  }

  static ObjectMeta meta(MixedPrecisionJob job, String name, String component) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(Labels.of(job, component))
        .withAnnotations(Labels.annotations(job))
        .withOwnerReferences(ownerReference(job))
        .build();
  }
}
