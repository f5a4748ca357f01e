package dev.mpj.local;

import io.fabric8.kubernetes.client.KubernetesClient;

/** Starts the operator against a cluster; closing what it returns stops it. */
@FunctionalInterface
public interface OperatorLauncher {
  AutoCloseable start(KubernetesClient client) throws Exception;
}
