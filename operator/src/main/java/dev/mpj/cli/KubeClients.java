package dev.mpj.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/** A client for the kubeconfig and context a command was given, as kubectl chooses them. */
final class KubeClients {

  private KubeClients() {}

  /**
   * @param kubeconfig the file of --kubeconfig, or null for $KUBECONFIG or ~/.kube/config
   * @param context the context of --context, or null for the current one
   */
  static KubernetesClient connect(Path kubeconfig, String context) {
    Config config;
    if (kubeconfig != null) {
      if (!Files.isRegularFile(kubeconfig)) {
        throw new IllegalArgumentException("--kubeconfig: file not found: " + kubeconfig);
      }
      config = Config.fromKubeconfig(context, kubeconfig.toFile());
    } else {
      config = Config.autoConfigure(context);
    }
    // a command answers at once when the cluster cannot be reached, as kubectl does
    config.setRequestRetryBackoffLimit(1);
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
