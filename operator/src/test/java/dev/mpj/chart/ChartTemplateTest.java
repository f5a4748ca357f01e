package dev.mpj.chart;

import static dev.mpj.chart.HelmChart.ALL_ON_VALUES;
import static dev.mpj.chart.HelmChart.NAMESPACE;
import static dev.mpj.chart.HelmChart.render;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * helm lint and helm template of charts/mpj-operator, the output parsed and checked object by
 * object.
 */
class ChartTemplateTest {

  @Test
  void lintPassesWithDefaultValuesAndWithEveryOptionalPartOn() {
    RepoTools.Run defaults = HelmChart.lint();
    assertThat(defaults.exitCode()).as(defaults.stdout() + defaults.stderr()).isZero();
    RepoTools.Run allOn =
        HelmChart.lint("-f", RepoTools.repoRoot().resolve(ALL_ON_VALUES).toString());
    assertThat(allOn.exitCode()).as(allOn.stdout() + allOn.stderr()).isZero();
  }

  @Test
  void operatorRunsUnderTheRestrictedPodSecurityStandard() {
    Deployment deployment = render().one(Deployment.class);
    PodSecurityContext pod = deployment.getSpec().getTemplate().getSpec().getSecurityContext();
    assertThat(pod.getRunAsNonRoot()).isTrue();
    assertThat(pod.getRunAsUser()).isPositive();
    assertThat(pod.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");

    Container operator = operatorContainer(deployment);
    SecurityContext container = operator.getSecurityContext();
    assertThat(container.getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getRunAsNonRoot()).isTrue();
    assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(container.getPrivileged()).isNotEqualTo(Boolean.TRUE);
    // The root file system is read-only, so the JVM's /tmp must be a volume.
    assertThat(operator.getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
  }

  @Test
  void probesAskTheHealthPortAndResourcesAreSet() {
    for (RenderedChart chart : List.of(render(), allOn())) {
      Container operator = operatorContainer(chart.one(Deployment.class));
      Map<String, Integer> ports =
          operator.getPorts().stream()
              .collect(Collectors.toMap(p -> p.getName(), p -> p.getContainerPort()));
      assertThat(ports.get("health")).isEqualTo(Integer.parseInt(env(operator, "MPJ_HEALTH_PORT")));
      assertThat(ports.get("metrics"))
          .isEqualTo(Integer.parseInt(env(operator, "MPJ_METRICS_PORT")));
      assertHttpProbe(operator.getLivenessProbe(), "/healthz");
      assertHttpProbe(operator.getStartupProbe(), "/healthz");
      assertHttpProbe(operator.getReadinessProbe(), "/readyz");
      assertThat(operator.getResources().getRequests()).containsKeys("cpu", "memory");
      assertThat(operator.getResources().getLimits()).containsKey("memory");
    }
    assertThat(env(operatorContainer(allOn().one(Deployment.class)), "MPJ_HEALTH_PORT"))
        .isEqualTo("9091");
  }

  @Test
  void valuesBecomeTheOperatorsEnvironment() throws IOException {
    String appVersion = chartYaml().get("appVersion").asText();
    Container defaults = operatorContainer(render().one(Deployment.class));
    assertThat(defaults.getImage()).isEqualTo("mpj-operator:" + appVersion);
    assertThat(defaults.getArgs()).containsExactly("operator");
    assertThat(env(defaults, "MPJ_WATCH_NAMESPACES")).isEmpty();
    assertThat(env(defaults, "MPJ_TRAINER_IMAGE")).isEqualTo("mpj-trainer:" + appVersion);
    assertThat(env(defaults, "MPJ_DEFAULT_GPU_MEMORY")).isEqualTo("16Gi");
    assertThat(env(defaults, "MPJ_GPU_MEMORY_RESERVE")).isEqualTo("1Gi");
    assertThat(env(defaults, "MPJ_METRICS_PORT")).isEqualTo("8080");
    assertThat(env(defaults, "MPJ_HEALTH_PORT")).isEqualTo("8081");
    assertThat(env(defaults, "MPJ_LEADER_ELECTION_NAMESPACE")).isEqualTo(NAMESPACE);

    Container custom = operatorContainer(allOn().one(Deployment.class));
    assertThat(custom.getImage()).isEqualTo("registry.example.com/mirror/mpj-operator:0.1.0-rc1");
    assertThat(env(custom, "MPJ_WATCH_NAMESPACES")).isEqualTo("ml-team-a,ml-team-b");
    assertThat(env(custom, "MPJ_TRAINER_IMAGE"))
        .isEqualTo("registry.example.com/mirror/mpj-trainer-cuda:0.1.0-cu124");
    assertThat(env(custom, "MPJ_DEFAULT_GPU_MEMORY")).isEqualTo("80Gi");
    assertThat(env(custom, "MPJ_GPU_MEMORY_RESERVE")).isEqualTo("2Gi");
    assertThat(env(custom, "MPJ_LEADER_ELECTION_NAMESPACE")).isEqualTo("mpj-leases");
    assertThat(env(custom, "JAVA_TOOL_OPTIONS")).isEqualTo("-XX:+UseSerialGC");
  }

  @Test
  void leaderElectionIsOnExactlyWhenMoreThanOneReplicaRunsOrItIsForced() {
    Deployment single = render().one(Deployment.class);
    assertThat(env(operatorContainer(single), "MPJ_LEADER_ELECTION")).isEqualTo("false");
    assertThat(single.getSpec().getStrategy().getType())
        .as("one replica must never overlap")
        .isEqualTo("Recreate");

    Deployment two = render("--set", "replicaCount=2").one(Deployment.class);
    assertThat(two.getSpec().getReplicas()).isEqualTo(2);
    assertThat(env(operatorContainer(two), "MPJ_LEADER_ELECTION")).isEqualTo("true");
    assertThat(two.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");

    Deployment forced = render("--set", "leaderElection.force=true").one(Deployment.class);
    assertThat(env(operatorContainer(forced), "MPJ_LEADER_ELECTION")).isEqualTo("true");
  }

  @Test
  void twoReleasesInOneNamespaceCompeteForTwoLeases() {
    String first =
        env(
            operatorContainer(HelmChart.renderRelease("team-a").one(Deployment.class)),
            "MPJ_LEASE_NAME");
    String second =
        env(
            operatorContainer(HelmChart.renderRelease("team-b").one(Deployment.class)),
            "MPJ_LEASE_NAME");
    assertThat(first).isEqualTo("team-a-mpj-operator");
    assertThat(second).isEqualTo("team-b-mpj-operator");
  }

  @Test
  void everyObjectCarriesTheStandardLabelsAndNamespacedOnesLandInTheRelease() {
    for (RenderedChart chart : List.of(render(), allOn())) {
      for (HasMetadata object : chart.all()) {
        assertThat(object.getMetadata().getLabels())
            .as("labels of %s %s", object.getKind(), object.getMetadata().getName())
            .containsEntry("app.kubernetes.io/name", "mpj-operator")
            .containsEntry("app.kubernetes.io/instance", HelmChart.RELEASE)
            .containsEntry("app.kubernetes.io/managed-by", "Helm")
            .containsKeys("helm.sh/chart", "app.kubernetes.io/version");
      }
    }
    for (HasMetadata object : render().all()) {
      String kind = object.getKind();
      boolean clusterScoped = kind.startsWith("Cluster") || kind.equals("CustomResourceDefinition");
      assertThat(object.getMetadata().getNamespace())
          .as("namespace of %s", kind)
          .isEqualTo(clusterScoped ? null : NAMESPACE);
    }
  }

  @Test
  void defaultsRenderOnlyTheCoreAndTheAllOnValuesRenderEveryOptionalPart() {
    assertThat(render().kinds())
        .containsExactlyInAnyOrder(
            "ServiceAccount",
            "CustomResourceDefinition",
            "ClusterRole",
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRoleBinding",
            "Service",
            "Deployment",
            "Secret");
    assertThat(allOn().kinds())
        .contains(
            "ServiceMonitor", "PodMonitor", "PodDisruptionBudget", "CustomResourceDefinition");
    assertThat(allOn().one(PodDisruptionBudget.class).getSpec().getMaxUnavailable().getIntVal())
        .isEqualTo(1);
    assertThat(allOn().one(ServiceAccount.class).getMetadata().getName())
        .isEqualTo("mpj-operator-sa");
  }

  @Test
  void theOperatorGetsTheTokenKeyFromAMountedSecretNotFromTheApi() {
    RenderedChart chart = render();
    Secret key = chart.one(Secret.class);
    assertThat(key.getMetadata().getName()).isEqualTo("mpj-mpj-operator-token-key");
    assertThat(key.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep");
    byte[] bytes = Base64.getDecoder().decode(key.getData().get("key"));
    assertThat(bytes).hasSize(64);
    Deployment deployment = chart.one(Deployment.class);
    Container operator = operatorContainer(deployment);
    assertThat(env(operator, "MPJ_TOKEN_KEY_FILE")).isEqualTo("/etc/mpj/token-key/key");
    assertThat(operator.getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getName()).isEqualTo("token-key");
              assertThat(m.getMountPath()).isEqualTo("/etc/mpj/token-key");
              assertThat(m.getReadOnly()).isTrue();
            });
    assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("token-key"))
        .singleElement()
        .satisfies(
            v -> assertThat(v.getSecret().getSecretName()).isEqualTo(key.getMetadata().getName()));

    RenderedChart own = render("--set", "tokenKey.existingSecret=team-token-key");
    assertThat(own.kinds()).doesNotContain("Secret");
    assertThat(own.one(Deployment.class).getSpec().getTemplate().getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("token-key"))
        .singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("team-token-key"));
  }

  @Test
  void serviceMonitorScrapesTheMetricsServiceByItsLabelsAndPortName() {
    Service service = allOn().one(Service.class);
    GenericKubernetesResource monitor = single(allOn().generic("ServiceMonitor"));
    Map<String, Object> spec = spec(monitor);
    Map<String, String> selector = map(map(spec.get("selector")).get("matchLabels"));
    assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(selector);
    assertThat(service.getSpec().getSelector())
        .containsAllEntriesOf(
            allOn().one(Deployment.class).getSpec().getSelector().getMatchLabels());
    Map<String, Object> endpoint = map(list(spec.get("endpoints")).get(0));
    assertThat(endpoint).containsEntry("port", "metrics").containsEntry("path", "/metrics");
    assertThat(endpoint)
        .as("the job series' namespace label is the job's, not the operator pod's")
        .containsEntry("honorLabels", true);
    assertThat(service.getSpec().getPorts())
        .anySatisfy(
            p -> {
              assertThat(p.getName()).isEqualTo("metrics");
              assertThat(p.getPort()).isEqualTo(9090);
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("metrics");
            });
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
  }

  @Test
  void podMonitorScrapesTrainerPodsInTheWatchedNamespaces() {
    Map<String, Object> watched = spec(single(allOn().generic("PodMonitor")));
    assertThat(map(map(watched.get("selector")).get("matchLabels")))
        .containsEntry("app.kubernetes.io/name", "mpj-trainer");
    assertThat(map(watched.get("namespaceSelector")).get("matchNames"))
        .isEqualTo(List.of("ml-team-a", "ml-team-b"));
    Map<String, Object> endpoint = map(list(watched.get("podMetricsEndpoints")).get(0));
    assertThat(endpoint).containsEntry("port", "metrics").containsEntry("path", "/metrics");
    assertThat(endpoint).containsEntry("honorLabels", true);

    Map<String, Object> everywhere =
        spec(single(render("--set", "metrics.podMonitor.enabled=true").generic("PodMonitor")));
    assertThat(map(everywhere.get("namespaceSelector"))).containsEntry("any", true);
  }

  @Test
  void dashboardConfigMapHoldsExactlyTheChartsDashboardFiles() throws IOException {
    List<String> dashboards;
    try (Stream<Path> files = Files.list(HelmChart.chartDir().resolve("dashboards"))) {
      dashboards =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".json"))
              .sorted()
              .toList();
    }
    assertThat(render().all(ConfigMap.class)).as("dashboards are off by default").isEmpty();
    List<ConfigMap> configMaps = allOn().all(ConfigMap.class);
    if (dashboards.isEmpty()) {
      assertThat(configMaps).as("no dashboard shipped, so no ConfigMap").isEmpty();
    } else {
      ConfigMap configMap = single(configMaps);
      assertThat(configMap.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
      assertThat(configMap.getData().keySet()).containsExactlyInAnyOrderElementsOf(dashboards);
    }
  }

  @Test
  void theSchemaRefusesMistypedAndMalformedValues() {
    assertThat(HelmChart.renderFailure("--set", "metrics.prot=9090")).contains("prot");
    assertThat(HelmChart.renderFailure("--set", "sizing.defaultGpuMemory=16GB"))
        .contains("defaultGpuMemory");
    assertThat(HelmChart.renderFailure("--set", "replicaCount=0")).contains("replicaCount");
    assertThat(HelmChart.renderFailure("--set", "watchNamespaces[0]=Team_A"))
        .contains("watchNamespaces");
  }

  private static RenderedChart allOn() {
    return render("-f", RepoTools.repoRoot().resolve(ALL_ON_VALUES).toString());
  }

  private static JsonNode chartYaml() throws IOException {
    return new YAMLMapper().readTree(HelmChart.chartDir().resolve("Chart.yaml").toFile());
  }

  private static Container operatorContainer(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).hasSize(1);
    return containers.get(0);
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in the operator's environment"));
  }

  private static void assertHttpProbe(Probe probe, String path) {
    assertThat(probe).as("probe on %s", path).isNotNull();
    assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
    assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("health");
  }

  private static <T> T single(List<T> items) {
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  private static Map<String, Object> spec(GenericKubernetesResource resource) {
    return map(resource.getAdditionalProperties().get("spec"));
  }

  @SuppressWarnings("unchecked")
  private static <V> Map<String, V> map(Object value) {
    assertThat(value).isInstanceOf(Map.class);
    return (Map<String, V>) value;
  }

  private static List<Object> list(Object value) {
    assertThat(value).isInstanceOf(List.class);
    return ((List<?>) value).stream().map(Object.class::cast).toList();
  }
}
