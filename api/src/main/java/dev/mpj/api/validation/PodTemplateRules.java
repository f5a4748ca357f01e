package dev.mpj.api.validation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.PodTemplateOverlay;
import dev.mpj.api.TrainerContract;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a job's pod template may add to the replica pods: what the API server would refuse of the
 * pod (a mount of a volume that is not there, a volume without a source), and what would break the
 * trainer's contract (a variable or folder of the contract, a resource the sizing owns).
 */
final class PodTemplateRules {
  private static final String F = "spec.template.";

  /** Folders the operator mounts or the kubelet writes; a user mount on or over them hides them. */
  static final List<String> TRAINER_PATHS =
      List.of(
          TrainerContract.CONFIG_DIR,
          TrainerContract.TMP_DIR,
          TrainerContract.OUTPUT_DIR,
          TrainerContract.CHECKPOINT_DIR,
          TrainerContract.TERMINATION_MESSAGE_PATH);

  /** Resources that spec.resources sizes; the template must not set them again. */
  private static final Map<String, String> SIZED_RESOURCES =
      Map.of(
          "cpu",
          "spec.resources.cpu",
          "memory",
          "spec.resources.memory",
          TrainerContract.GPU_RESOURCE,
          "spec.resources.gpusPerReplica");

  private static final String MIG_PREFIX = "nvidia.com/mig-";

  private static final ObjectMapper JSON = new ObjectMapper();

  private PodTemplateRules() {}

  static List<Violation> validate(PodTemplateOverlay t, int gpusPerReplica) {
    List<Violation> out = new ArrayList<>();
    Set<String> volumeNames = volumes(out, t.volumes);
    mounts(out, t.volumeMounts, volumeNames);
    env(out, t.env);
    envFrom(out, t.envFrom);
    pullSecrets(out, t.imagePullSecrets);
    if (t.runtimeClassName != null && !t.runtimeClassName.isBlank()) {
      KubernetesNames.dns1123Subdomain(t.runtimeClassName)
          .forEach(m -> out.add(new Violation(F + "runtimeClassName", m)));
    }
    spread(out, t.topologySpreadConstraints);
    resources(out, t.resources, gpusPerReplica);
    return out;
  }

  private static Set<String> volumes(List<Violation> out, List<Volume> volumes) {
    Set<String> names = new HashSet<>();
    if (volumes == null) {
      return names;
    }
    for (int i = 0; i < volumes.size(); i++) {
      String f = F + "volumes[" + i + "]";
      Volume v = volumes.get(i);
      if (v == null || v.getName() == null || v.getName().isBlank()) {
        out.add(new Violation(f + ".name", "is required"));
        continue;
      }
      KubernetesNames.dns1123Label(v.getName())
          .forEach(m -> out.add(new Violation(f + ".name", m)));
      if (TrainerContract.OPERATOR_VOLUMES.contains(v.getName())) {
        out.add(
            new Violation(
                f + ".name",
                v.getName()
                    + " is a volume the operator adds to every replica pod; choose another name"));
      }
      if (!names.add(v.getName())) {
        out.add(new Violation(f + ".name", "Duplicate value: " + v.getName()));
      }
      Set<String> sources = sources(v);
      if (sources.size() != 1) {
        out.add(
            new Violation(
                f,
                sources.isEmpty()
                    ? "must specify a volume type (e.g. persistentVolumeClaim)"
                    : "may not specify more than one volume type (got " + sources + ")"));
      }
    }
    return names;
  }

  /** The volume's source fields that are set, as the API server counts them. */
  private static Set<String> sources(Volume v) {
    Map<?, ?> fields = JSON.convertValue(v, Map.class);
    Set<String> set = new TreeSet<>();
    fields.forEach(
        (k, value) -> {
          if (!"name".equals(k) && value != null) {
            set.add(k.toString());
          }
        });
    return set;
  }

  private static void mounts(List<Violation> out, List<VolumeMount> mounts, Set<String> volumes) {
    if (mounts == null) {
      return;
    }
    Set<String> paths = new HashSet<>();
    for (int i = 0; i < mounts.size(); i++) {
      String f = F + "volumeMounts[" + i + "]";
      VolumeMount m = mounts.get(i);
      if (m == null || m.getName() == null || m.getName().isBlank()) {
        out.add(new Violation(f + ".name", "is required"));
      } else if (!volumes.contains(m.getName())) {
        out.add(
            new Violation(
                f + ".name",
                "Not found: " + m.getName() + " (a mount must name one of spec.template.volumes)"));
      }
      String path = m == null ? null : m.getMountPath();
      if (path == null || path.isBlank()) {
        out.add(new Violation(f + ".mountPath", "is required"));
        continue;
      }
      if (!path.startsWith("/")) {
        out.add(new Violation(f + ".mountPath", "must be an absolute path (got " + path + ")"));
        continue;
      }
      String normal = normal(path);
      if (!paths.add(normal)) {
        out.add(new Violation(f + ".mountPath", "must be unique (got " + path + " twice)"));
      }
      for (String trainer : TRAINER_PATHS) {
        if (within(normal, trainer) || within(trainer, normal)) {
          out.add(
              new Violation(
                  f + ".mountPath",
                  path
                      + (within(normal, trainer) ? " is on or inside " : " would hide ")
                      + trainer
                      + ", which the trainer uses (config, output, checkpoints, scratch);"
                      + " mount elsewhere, e.g. /data"));
          break;
        }
      }
    }
  }

  private static String normal(String path) {
    String p = path.replaceAll("/+", "/");
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /** Whether {@code path} is {@code folder} or lies inside it. */
  private static boolean within(String path, String folder) {
    return path.equals(folder) || folder.equals("/") || path.startsWith(folder + "/");
  }

  private static void env(List<Violation> out, List<EnvVar> env) {
    if (env == null) {
      return;
    }
    for (int i = 0; i < env.size(); i++) {
      String f = F + "env[" + i + "]";
      EnvVar e = env.get(i);
      if (e == null || e.getName() == null || e.getName().isBlank()) {
        out.add(new Violation(f + ".name", "is required"));
        continue;
      }
      if (TrainerContract.OPERATOR_SET_VARIABLES.contains(e.getName())) {
        out.add(
            new Violation(
                f + ".name",
                e.getName()
                    + " is set by the operator for the trainer (its contract); remove it from the"
                    + " template"));
      }
      if (e.getValue() != null && e.getValueFrom() != null) {
        out.add(new Violation(f + ".valueFrom", "may not be specified when `value` is not empty"));
      }
    }
  }

  private static void envFrom(List<Violation> out, List<EnvFromSource> envFrom) {
    if (envFrom == null) {
      return;
    }
    for (int i = 0; i < envFrom.size(); i++) {
      EnvFromSource e = envFrom.get(i);
      int sources =
          (e == null || e.getConfigMapRef() == null ? 0 : 1)
              + (e == null || e.getSecretRef() == null ? 0 : 1);
      if (sources != 1) {
        out.add(
            new Violation(
                F + "envFrom[" + i + "]", "must name exactly one of configMapRef or secretRef"));
      }
    }
  }

  private static void pullSecrets(List<Violation> out, List<LocalObjectReference> secrets) {
    if (secrets == null) {
      return;
    }
    for (int i = 0; i < secrets.size(); i++) {
      LocalObjectReference s = secrets.get(i);
      if (s == null || s.getName() == null || s.getName().isBlank()) {
        out.add(new Violation(F + "imagePullSecrets[" + i + "].name", "is required"));
      }
    }
  }

  private static void spread(List<Violation> out, List<TopologySpreadConstraint> constraints) {
    if (constraints == null) {
      return;
    }
    for (int i = 0; i < constraints.size(); i++) {
      String f = F + "topologySpreadConstraints[" + i + "].";
      TopologySpreadConstraint c = constraints.get(i);
      if (c == null) {
        continue;
      }
      if (c.getMaxSkew() == null || c.getMaxSkew() < 1) {
        out.add(
            new Violation(f + "maxSkew", "must be greater than zero (got " + c.getMaxSkew() + ")"));
      }
      if (c.getTopologyKey() == null || c.getTopologyKey().isBlank()) {
        out.add(new Violation(f + "topologyKey", "is required, e.g. kubernetes.io/hostname"));
      }
      if (!"DoNotSchedule".equals(c.getWhenUnsatisfiable())
          && !"ScheduleAnyway".equals(c.getWhenUnsatisfiable())) {
        out.add(
            new Violation(
                f + "whenUnsatisfiable",
                "must be DoNotSchedule or ScheduleAnyway (got " + c.getWhenUnsatisfiable() + ")"));
      }
    }
  }

  private static void resources(
      List<Violation> out, Map<String, Quantity> resources, int gpusPerReplica) {
    if (resources == null) {
      return;
    }
    for (var entry : new TreeMap<>(resources).entrySet()) {
      String name = entry.getKey();
      String f = F + "resources[" + name + "]";
      if (SIZED_RESOURCES.containsKey(name)) {
        out.add(
            new Violation(
                f,
                name
                    + " is sized by the operator from "
                    + SIZED_RESOURCES.get(name)
                    + "; set it there"));
        continue;
      }
      if (name.startsWith(MIG_PREFIX) && gpusPerReplica > 0) {
        out.add(
            new Violation(
                f,
                "a MIG slice beside "
                    + gpusPerReplica
                    + " whole "
                    + TrainerContract.GPU_RESOURCE
                    + " per replica: the trainer uses one device; set"
                    + " spec.resources.gpusPerReplica to 0 and spec.resources.gpuMemory to the"
                    + " slice's memory"));
        continue;
      }
      boolean standard = name.equals("ephemeral-storage") || name.startsWith("hugepages-");
      if (!standard && !name.contains("/")) {
        out.add(
            new Violation(
                f,
                "must be a standard resource (ephemeral-storage, hugepages-<size>) or an extended"
                    + " resource with a domain, e.g. rdma/hca_shared_devices_a"));
        continue;
      }
      if (!standard) {
        KubernetesNames.qualifiedName(name).forEach(m -> out.add(new Violation(f, m)));
      }
      Quantity q = entry.getValue();
      BigDecimal amount;
      try {
        amount = q == null ? null : Quantity.getAmountInBytes(q);
      } catch (IllegalArgumentException e) {
        amount = null;
      }
      if (amount == null || amount.signum() <= 0) {
        out.add(new Violation(f, "must be a positive Kubernetes quantity (got " + q + ")"));
      } else if (!standard && amount.stripTrailingZeros().scale() > 0) {
        out.add(
            new Violation(f, "must be a whole number for an extended resource (got " + q + ")"));
      }
    }
  }
}
