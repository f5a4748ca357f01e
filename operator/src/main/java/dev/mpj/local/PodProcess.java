package dev.mpj.local;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pod's container as a process on this machine: its volumes become folders (a claim's folder is
 * shared by the job's attempts, ConfigMaps and Secrets are written out), its environment is
 * resolved as Kubernetes would (Secrets, ConfigMaps, the downward API, $(VAR) expansion), paths
 * under its mounts point into those folders, and Service DNS names resolve to this host.
 *
 * @param command the command line, paths rewritten
 * @param environment the process environment, paths and hosts rewritten; mutable, for the kubelet
 */
record PodProcess(List<String> command, Map<String, String> environment) {

  static PodProcess of(KubernetesClient client, Path workDir, Pod pod, Path podDir)
      throws IOException {
    Container container = pod.getSpec().getContainers().get(0);
    Map<String, Path> mounts = mountVolumes(client, workDir, pod, container, podDir);
    Map<String, String> containerEnv = containerEnv(client, pod, container);
    List<String> command = new ArrayList<>();
    if (container.getCommand() != null) {
      container
          .getCommand()
          .forEach(c -> command.add(rewritePath(expand(c, containerEnv), mounts)));
    }
    if (container.getArgs() != null) {
      container.getArgs().forEach(a -> command.add(rewritePath(expand(a, containerEnv), mounts)));
    }
    if (command.isEmpty()) {
      throw new IllegalStateException("container " + container.getName() + " has no command");
    }
    return new PodProcess(command, localEnv(containerEnv, mounts));
  }

  private static Map<String, Path> mountVolumes(
      KubernetesClient client, Path workDir, Pod pod, Container container, Path dir)
      throws IOException {
    Map<String, Volume> volumes = new HashMap<>();
    if (pod.getSpec().getVolumes() != null) {
      pod.getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
    }
    String ns = pod.getMetadata().getNamespace();
    Map<String, Path> mounts = new LinkedHashMap<>();
    if (container.getVolumeMounts() == null) {
      return mounts;
    }
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume = volumes.get(mount.getName());
      if (volume == null) {
        throw new IllegalStateException(
            "volume " + mount.getName() + " is mounted but not declared");
      }
      Path local;
      if (volume.getPersistentVolumeClaim() != null) {
        // A claim outlives pods: every attempt of the job sees the same folder.
        local =
            workDir
                .resolve("volumes")
                .resolve(ns + "-" + volume.getPersistentVolumeClaim().getClaimName());
      } else {
        local = dir.resolve("volumes").resolve(volume.getName());
      }
      Files.createDirectories(local);
      if (volume.getConfigMap() != null) {
        ConfigMap cm =
            client.configMaps().inNamespace(ns).withName(volume.getConfigMap().getName()).get();
        if (cm == null) {
          throw new IllegalStateException(
              "ConfigMap " + volume.getConfigMap().getName() + " not found");
        }
        for (var e : cm.getData().entrySet()) {
          Files.writeString(local.resolve(e.getKey()), e.getValue());
        }
      } else if (volume.getSecret() != null) {
        Secret secret =
            client.secrets().inNamespace(ns).withName(volume.getSecret().getSecretName()).get();
        if (secret == null) {
          throw new IllegalStateException(
              "Secret " + volume.getSecret().getSecretName() + " not found");
        }
        for (var e : secretData(secret).entrySet()) {
          Files.writeString(local.resolve(e.getKey()), e.getValue());
        }
      }
      Path target =
          mount.getSubPath() != null && !mount.getSubPath().isEmpty()
              ? local.resolve(mount.getSubPath())
              : local;
      mounts.put(mount.getMountPath(), target);
    }
    return mounts;
  }

  /**
   * The container's environment as Kubernetes would give it: values from Secrets, ConfigMaps and
   * the downward API, with $(VAR) references expanded; paths still as the container sees them.
   */
  private static Map<String, String> containerEnv(
      KubernetesClient client, Pod pod, Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    if (container.getEnv() == null) {
      return env;
    }
    String ns = pod.getMetadata().getNamespace();
    for (EnvVar var : container.getEnv()) {
      String value = var.getValue();
      if (var.getValueFrom() != null) {
        var from = var.getValueFrom();
        if (from.getSecretKeyRef() != null) {
          Secret secret =
              client.secrets().inNamespace(ns).withName(from.getSecretKeyRef().getName()).get();
          value = secret == null ? null : secretData(secret).get(from.getSecretKeyRef().getKey());
        } else if (from.getConfigMapKeyRef() != null) {
          ConfigMap cm =
              client
                  .configMaps()
                  .inNamespace(ns)
                  .withName(from.getConfigMapKeyRef().getName())
                  .get();
          value = cm == null ? null : cm.getData().get(from.getConfigMapKeyRef().getKey());
        } else if (from.getFieldRef() != null) {
          value =
              switch (from.getFieldRef().getFieldPath()) {
                case "metadata.name" -> pod.getMetadata().getName();
                case "metadata.namespace" -> ns;
                case "status.podIP", "status.hostIP" -> "127.0.0.1";
                case "spec.nodeName" -> LocalCluster.NODE_NAME;
                default -> null;
              };
        }
      }
      if (value == null) {
        throw new IllegalStateException(
            "environment variable " + var.getName() + " cannot be resolved");
      }
      env.put(var.getName(), expand(value, env));
    }
    return env;
  }

  /**
   * The same environment on this machine: mounted paths become folders, Service names this host.
   */
  private static Map<String, String> localEnv(
      Map<String, String> containerEnv, Map<String, Path> mounts) {
    Map<String, String> env = new LinkedHashMap<>();
    containerEnv.forEach((name, value) -> env.put(name, rewriteHost(rewritePath(value, mounts))));
    return env;
  }

  private static Map<String, String> secretData(Secret secret) {
    Map<String, String> data = new HashMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (k, v) ->
                  data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      data.putAll(secret.getStringData());
    }
    return data;
  }

  private static final Pattern VARIABLE =
      Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  /**
   * Kubernetes' $(VAR) expansion in command, args and env: defined names are replaced, $$ is a
   * literal $.
   */
  static String expand(String value, Map<String, String> env) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(1) == null) {
        replacement = "$";
      } else {
        replacement = env.getOrDefault(m.group(1), m.group());
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String rewritePath(String value, Map<String, Path> mounts) {
    String best = null;
    for (String mountPath : mounts.keySet()) {
      boolean under =
          value.equals(mountPath)
              || value.startsWith(mountPath.endsWith("/") ? mountPath : mountPath + "/");
      if (under && (best == null || mountPath.length() > best.length())) {
        best = mountPath;
      }
    }
    return best == null ? value : mounts.get(best) + value.substring(best.length());
  }

  /** Cluster DNS names of Services resolve to this machine. */
  private static String rewriteHost(String value) {
    return value.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?\\.svc(\\.cluster\\.local)?")
        ? "127.0.0.1"
        : value;
  }
}
