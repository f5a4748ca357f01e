package dev.mpj.local;

/**
 * The kubeconfig of the local cluster: one cluster, user and context, all named {@value #CONTEXT},
 * the context current and in the {@code default} namespace. The API server listens on loopback over
 * plain HTTP and asks for no credentials.
 */
public final class Kubeconfig {
  public static final String CONTEXT = "mpj-local";

  private Kubeconfig() {}

  public static String of(String serverUrl) {
    String server =
        serverUrl.endsWith("/") ? serverUrl.substring(0, serverUrl.length() - 1) : serverUrl;
    return String.join(
        "\n",
        "# Written by mpj local --serve: kubectl talks to the local cluster while it runs.",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: " + CONTEXT,
        "  cluster:",
        "    server: " + server,
        "users:",
        "- name: " + CONTEXT,
        "  user: {}",
        "contexts:",
        "- name: " + CONTEXT,
        "  context:",
        "    cluster: " + CONTEXT,
        "    user: " + CONTEXT,
        "    namespace: default",
        "current-context: " + CONTEXT,
        "");
  }
}
