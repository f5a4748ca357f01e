package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;
import java.util.Map;

/**
 * What a user may add to every replica's pod. The operator refuses (spec validator) what would
 * break the trainer's contract: a variable the operator sets, a mount over one of the trainer's
 * folders, a resource the sizing owns.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class PodTemplateOverlay {
  @JsonPropertyDescription("Extra labels; MPJ's own labels win on conflict.")
  public Map<String, String> labels;

  @JsonPropertyDescription("Extra annotations.")
  public Map<String, String> annotations;

  @JsonPropertyDescription("Node selector; sizing reads the GPU memory of the nodes it matches.")
  public Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations, e.g. for nvidia.com/gpu taints.")
  public List<Toleration> tolerations;

  @JsonPropertyDescription("Affinity rules.")
  public Affinity affinity;

  @JsonPropertyDescription("Priority class of the pods.")
  public String priorityClassName;

  @JsonPropertyDescription("Scheduler, e.g. a gang scheduler.")
  public String schedulerName;

  @JsonPropertyDescription("Service account of the pods. Unset: the namespace's default.")
  public String serviceAccountName;

  @JsonPropertyDescription(
      "Extra volumes of every replica's pod, e.g. a PersistentVolumeClaim holding the training data."
          + " Not named config, tmp, output or checkpoints (the operator's own).")
  public List<Volume> volumes;

  @JsonPropertyDescription(
      "Extra mounts of the trainer container, each naming one of spec.template.volumes. Not on or"
          + " over /etc/mpj, /tmp, /var/run/mpj/output, /var/run/mpj/checkpoints or"
          + " /dev/termination-log.")
  public List<VolumeMount> volumeMounts;

  @JsonPropertyDescription(
      "Extra environment variables of the trainer container; not one the operator sets (MPJ_RANK,"
          + " MPJ_JOB_TOKEN and the other variables of the trainer contract).")
  public List<EnvVar> env;

  @JsonPropertyDescription(
      "Variables from ConfigMaps or Secrets; the operator's MPJ_* variables win over any of the same"
          + " name.")
  public List<EnvFromSource> envFrom;

  @JsonPropertyDescription("Secrets for pulling the trainer image from a private registry.")
  public List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("RuntimeClass of the pods, e.g. nvidia.")
  public String runtimeClassName;

  @JsonPropertyDescription(
      "How to spread the replicas over nodes or zones; the pods carry the label"
          + " mpj.dev/job-name: <job>.")
  public List<TopologySpreadConstraint> topologySpreadConstraints;

  @JsonPropertyDescription(
      "Extra extended resources of the trainer container, requested and limited alike, e.g."
          + " rdma/hca_shared_devices_a: 1, or a MIG profile nvidia.com/mig-1g.10gb: 1 with"
          + " spec.resources.gpusPerReplica 0. Not cpu, memory or nvidia.com/gpu: spec.resources"
          + " sizes those.")
  public Map<String, Quantity> resources;
}
