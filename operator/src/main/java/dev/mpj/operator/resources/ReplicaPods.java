package dev.mpj.operator.resources;

import dev.mpj.api.Crd;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.PodTemplateOverlay;
import dev.mpj.api.ResourcesSpec;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The desired pod of one replica of one attempt. A pure function of the job and the attempt. */
public final class ReplicaPods {
  /**
   * The user (and group) of the trainer image (trainer-image/Dockerfile's USER; a test holds them
   * equal); non-root, and the checkpoint volume is group-writable for it.
   */
  public static final long TRAINER_UID = 65532L;

  /** Time for the trainers to write a checkpoint after SIGTERM. */
  public static final long GRACE_PERIOD_SECONDS = 60L;

  private ReplicaPods() {}

  public static Pod desired(
      MixedPrecisionJob job, int attempt, int worldSize, int rank, OperatorSettings settings) {
    MixedPrecisionJobSpec spec = job.getSpec();
    PodTemplateOverlay overlay =
        Optional.ofNullable(spec.template).orElseGet(PodTemplateOverlay::new);
    String name = JobNames.pod(job, rank);

    Map<String, String> labels = new LinkedHashMap<>();
    if (overlay.labels != null) {
      labels.putAll(overlay.labels);
    }
    String queue =
        job.getMetadata().getLabels() == null
            ? null
            : job.getMetadata().getLabels().get(Labels.KUEUE_QUEUE_NAME);
    if (queue != null) {
      labels.put(Labels.KUEUE_QUEUE_NAME, queue);
    }
    labels.putAll(Labels.of(job, "worker"));
    labels.put(Crd.LABEL_REPLICA_INDEX, Integer.toString(rank));
    labels.put(Crd.LABEL_ATTEMPT, Integer.toString(attempt));
    if (ReferenceGang.isView(job)) {
      labels.put(ReferenceGang.LABEL, ReferenceGang.REFERENCE);
    }

    Map<String, String> annotations = new LinkedHashMap<>();
    if (overlay.annotations != null) {
      annotations.putAll(overlay.annotations);
    }
    annotations.putAll(Labels.annotations(job));
    annotations.put(Labels.SHAPE, shape(spec));
    annotations.put(Labels.WORLD_SIZE, Integer.toString(worldSize));

    var container =
        new ContainerBuilder()
            .withName(JobNames.CONTAINER)
            .withImage(spec.image != null ? spec.image : settings.defaultImage())
            .withCommand("mpj-trainer")
            .withArgs(
                "train",
                "--config",
                "$(" + TrainerContract.ENV_CONFIG + ")",
                "--output",
                "$(" + TrainerContract.ENV_OUTPUT_DIR + ")")
            .withEnv(env(job, attempt, worldSize, rank, settings, overlay))
            .withEnvFrom(overlay.envFrom)
            .addNewPort()
            .withName(TrainerContract.PORT_COORDINATOR)
            .withContainerPort(settings.coordinatorPort())
            .endPort()
            .addNewPort()
            .withName(TrainerContract.PORT_METRICS)
            .withContainerPort(settings.trainerMetricsPort())
            .endPort()
            .withNewResources()
            .withRequests(resources(spec.resources, overlay))
            .withLimits(resources(spec.resources, overlay))
            .endResources()
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withAllowPrivilegeEscalation(false)
            .withPrivileged(false)
            .withReadOnlyRootFilesystem(true)
            .withNewCapabilities()
            .withDrop("ALL")
            .endCapabilities()
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            .withVolumeMounts(mounts(rank, overlay))
            .withTerminationMessagePath(TrainerContract.TERMINATION_MESSAGE_PATH)
            .withTerminationMessagePolicy("File")
            .build();

    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(annotations)
        .withOwnerReferences(JobChildren.ownerReference(job))
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withHostname(name)
        .withSubdomain(JobNames.service(job))
        .withTerminationGracePeriodSeconds(GRACE_PERIOD_SECONDS)
        .withAutomountServiceAccountToken(false)
        .withServiceAccountName(blankToNull(overlay.serviceAccountName))
        .withNodeSelector(overlay.nodeSelector)
        .withTolerations(overlay.tolerations)
        .withAffinity(overlay.affinity)
        .withPriorityClassName(blankToNull(overlay.priorityClassName))
        .withSchedulerName(blankToNull(overlay.schedulerName))
        .withRuntimeClassName(blankToNull(overlay.runtimeClassName))
        .withImagePullSecrets(overlay.imagePullSecrets)
        .withTopologySpreadConstraints(overlay.topologySpreadConstraints)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(TRAINER_UID)
        .withRunAsGroup(TRAINER_UID)
        .withFsGroup(TRAINER_UID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withContainers(container)
        .withVolumes(volumes(job, rank, overlay))
        .endSpec()
        .build();
  }

  /**
   * What a gang restart must follow: replicas bounds and per-replica resources, as one readable
   * string.
   */
  public static String shape(MixedPrecisionJobSpec spec) {
    ResourcesSpec r = spec.resources == null ? new ResourcesSpec() : spec.resources;
    String replicas = spec.replicas == null ? "1-1" : spec.replicas.min + "-" + spec.replicas.max;
    return "replicas="
        + replicas
        + ",gpus="
        + r.gpusPerReplica
        + ",gpuMemory="
        + text(r.gpuMemory)
        + ",cpu="
        + text(r.cpu)
        + ",memory="
        + text(r.memory);
  }

  private static List<EnvVar> env(
      MixedPrecisionJob job,
      int attempt,
      int worldSize,
      int rank,
      OperatorSettings settings,
      PodTemplateOverlay overlay) {
    List<EnvVar> env = new ArrayList<>();
    // The template's variables first: the spec validator refuses any of the contract's names, and
    // the operator's own come after, so they would win in any case.
    if (overlay.env != null) {
      env.addAll(overlay.env);
    }
    env.add(value(TrainerContract.ENV_JOB_NAME, job.getMetadata().getName()));
    env.add(value(TrainerContract.ENV_RANK, Integer.toString(rank)));
    env.add(value(TrainerContract.ENV_WORLD_SIZE, Integer.toString(worldSize)));
    env.add(value(TrainerContract.ENV_COORDINATOR_ADDR, JobNames.coordinatorAddress(job)));
    env.add(
        value(TrainerContract.ENV_COORDINATOR_PORT, Integer.toString(settings.coordinatorPort())));
    env.add(
        new EnvVarBuilder()
            .withName(TrainerContract.ENV_JOB_TOKEN)
            .withNewValueFrom()
            .withNewSecretKeyRef()
            .withName(JobNames.secret(job))
            .withKey(JobNames.TOKEN_KEY)
            .endSecretKeyRef()
            .endValueFrom()
            .build());
    env.add(value(TrainerContract.ENV_ATTEMPT, Integer.toString(attempt)));
    env.add(value(TrainerContract.ENV_CONFIG, JobNames.CONFIG_PATH));
    env.add(value(TrainerContract.ENV_CHECKPOINT_DIR, JobNames.CHECKPOINT_DIR));
    env.add(value(TrainerContract.ENV_OUTPUT_DIR, JobNames.OUTPUT_DIR));
    env.add(
        value(TrainerContract.ENV_METRICS_PORT, Integer.toString(settings.trainerMetricsPort())));
    env.add(
        value(
            TrainerContract.ENV_TERMINATION_MESSAGE_PATH,
            TrainerContract.TERMINATION_MESSAGE_PATH));
    return env;
  }

  private static Map<String, Quantity> resources(ResourcesSpec r, PodTemplateOverlay overlay) {
    Map<String, Quantity> map = new LinkedHashMap<>();
    if (overlay.resources != null) {
      // Extended resources (RDMA, MIG slices): requests equal limits, as the API server requires.
      map.putAll(new TreeMap<>(overlay.resources));
    }
    if (r == null) {
      r = new ResourcesSpec();
    }
    if (r.gpusPerReplica > 0) {
      map.put(TrainerContract.GPU_RESOURCE, new Quantity(Integer.toString(r.gpusPerReplica)));
    }
    if (r.cpu != null) {
      map.put("cpu", r.cpu);
    }
    if (r.memory != null) {
      map.put("memory", r.memory);
    }
    return map;
  }

  private static List<VolumeMount> mounts(int rank, PodTemplateOverlay overlay) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(mount("config", JobNames.CONFIG_DIR, true));
    mounts.add(mount("tmp", JobNames.TMP_DIR, false));
    mounts.add(mount("output", JobNames.OUTPUT_DIR, false));
    if (rank == 0) {
      mounts.add(mount("checkpoints", JobNames.CHECKPOINT_DIR, false));
    }
    if (overlay.volumeMounts != null) {
      mounts.addAll(overlay.volumeMounts);
    }
    return mounts;
  }

  private static List<Volume> volumes(MixedPrecisionJob job, int rank, PodTemplateOverlay overlay) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("config")
            .withNewConfigMap()
            .withName(JobNames.configMap(job))
            .endConfigMap()
            .build());
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    volumes.add(new VolumeBuilder().withName("output").withNewEmptyDir().endEmptyDir().build());
    if (rank == 0) {
      var checkpoint = job.getSpec().checkpoint == null ? null : job.getSpec().checkpoint.volume;
      VolumeBuilder v = new VolumeBuilder().withName("checkpoints");
      if (checkpoint != null && checkpoint.claimName != null && !checkpoint.claimName.isBlank()) {
        v.withNewPersistentVolumeClaim()
            .withClaimName(checkpoint.claimName)
            .endPersistentVolumeClaim();
      } else if (checkpoint != null && checkpoint.size != null) {
        v.withNewPersistentVolumeClaim()
            .withClaimName(JobNames.checkpointClaim(job))
            .endPersistentVolumeClaim();
      } else {
        v.withNewEmptyDir().endEmptyDir();
      }
      volumes.add(v.build());
    }
    if (overlay.volumes != null) {
      volumes.addAll(overlay.volumes);
    }
    return volumes;
  }

  private static VolumeMount mount(String name, String path, boolean readOnly) {
    return new VolumeMountBuilder()
        .withName(name)
        .withMountPath(path)
        .withReadOnly(readOnly)
        .build();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static String text(Quantity q) {
    return q == null ? "" : q.toString();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
