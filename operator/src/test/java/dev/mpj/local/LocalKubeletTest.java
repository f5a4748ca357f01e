package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.testing.Eventually;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local kubelet against the in-process API server, with real processes. */
class LocalKubeletTest {

  @TempDir Path workDir;
  private LocalCluster cluster;
  private LocalKubelet kubelet;
  private final List<String> log = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    cluster = LocalCluster.start(2, new Quantity("16Gi"), workDir.resolve("pods"));
    kubelet =
        new LocalKubelet(
            cluster.client(), workDir, Path.of("/nonexistent/mpj-trainer"), null, log::add);
    kubelet.start();
    KubernetesClient client = cluster.client();
    client
        .secrets()
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("token")
                .withNamespace("default")
                .endMetadata()
                .withStringData(Map.of("token", "s3cret"))
                .build())
        .create();
    client
        .configMaps()
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("cfg")
                .withNamespace("default")
                .endMetadata()
                .withData(Map.of("config.yaml", "hello: world\n"))
                .build())
        .create();
  }

  @AfterEach
  void stop() {
    kubelet.close();
    cluster.close();
  }

  @Test
  void registersThisMachineAsAGpuNode() {
    var node = cluster.client().nodes().withName(LocalCluster.NODE_NAME).get();
    assertThat(node.getMetadata().getLabels()).containsEntry("nvidia.com/gpu.memory", "16384");
    assertThat(node.getStatus().getAllocatable().get("nvidia.com/gpu"))
        .isEqualTo(new Quantity("2"));
    assertThat(
            cluster
                .client()
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("mixedprecisionjobs.mpj.dev")
                .get())
        .isNotNull();
  }

  @Test
  void runsThePodWithItsEnvironmentAndVolumesAndReportsTheExitCode() throws Exception {
    KubernetesClient client = cluster.client();
    client
        .pods()
        .resource(
            pod(
                "writer",
                "cat $CONFIG > $OUT/copy; echo $TOKEN > $OUT/token; echo $ADDR > $OUT/addr;"
                    + " echo $MPJ_LOCAL_KUBELET_PID > $OUT/kubelet; exit 3"))
        .create();

    await(() -> "Failed".equals(phase("writer")));
    Pod pod = client.pods().inNamespace("default").withName("writer").get();
    assertThat(
            pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode())
        .isEqualTo(3);
    assertThat(pod.getSpec().getNodeName()).isEqualTo(LocalCluster.NODE_NAME);
    Path out = workDir.resolve("pods/writer-attempt-1/volumes/out");
    assertThat(Files.readString(out.resolve("copy"))).isEqualTo("hello: world\n");
    assertThat(Files.readString(out.resolve("token")).trim()).isEqualTo("s3cret");
    assertThat(Files.readString(out.resolve("addr")).trim()).isEqualTo("127.0.0.1");
    assertThat(Files.readString(out.resolve("kubelet")).trim())
        .as("the trainer learns which process to outlive no longer")
        .isEqualTo(String.valueOf(ProcessHandle.current().pid()));
  }

  @Test
  void expandsVariablesAsKubernetesDoes() {
    Map<String, String> env = Map.of("MPJ_CONFIG", "/etc/mpj/config.yaml");
    assertThat(PodProcess.expand("--config=$(MPJ_CONFIG)", env))
        .isEqualTo("--config=/etc/mpj/config.yaml");
    assertThat(PodProcess.expand("$(UNDEFINED) stays", env)).isEqualTo("$(UNDEFINED) stays");
    assertThat(PodProcess.expand("$$(MPJ_CONFIG) is escaped", env))
        .isEqualTo("$(MPJ_CONFIG) is escaped");
  }

  @Test
  void followsAGrowingMetricsFileLineByLine() throws Exception {
    Path metrics = workDir.resolve("metrics.jsonl");
    MetricsTail tail = new MetricsTail(metrics);
    assertThat(tail.lastStep()).isEqualTo(-1);
    Files.writeString(metrics, "{\"step\":1,\"loss\":2.3}\n{\"step\":2,");
    assertThat(tail.lastStep()).as("a half-written line is not read yet").isEqualTo(1);
    Files.writeString(metrics, "\"loss\":2.1}\n", StandardOpenOption.APPEND);
    assertThat(tail.lastStep()).isEqualTo(2);
  }

  @Test
  void succeedsOnExitZero() throws Exception {
    cluster.client().pods().resource(pod("ok", "exit 0")).create();
    await(() -> "Succeeded".equals(phase("ok")));
  }

  @Test
  void theTerminationMessageFileBecomesTheMessageElseTheLogsTail() throws Exception {
    KubernetesClient client = cluster.client();
    Pod reporting =
        pod(
            "reporting",
            "echo noise; printf '{\"step\":300}' > $MPJ_TERMINATION_MESSAGE_PATH; exit 0");
    reporting.getSpec().getContainers().get(0).setTerminationMessagePath("/dev/termination-log");
    client.pods().resource(reporting).create();
    Pod silent = pod("silent", "echo last words; exit 1");
    silent.getSpec().getContainers().get(0).setTerminationMessagePath("/dev/termination-log");
    client.pods().resource(silent).create();

    await(() -> "Succeeded".equals(phase("reporting")) && "Failed".equals(phase("silent")));
    assertThat(terminated("reporting").getMessage()).isEqualTo("{\"step\":300}");
    assertThat(terminated("silent").getMessage()).isEqualTo("last words");
    assertThat(workDir.resolve("pods/reporting-attempt-1/termination-log"))
        .hasContent("{\"step\":300}");
  }

  private ContainerStateTerminated terminated(String name) {
    Pod pod = cluster.client().pods().inNamespace("default").withName(name).get();
    return pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
  }

  @Test
  void deletingThePodSendsSigtermFirst() throws Exception {
    KubernetesClient client = cluster.client();
    client
        .pods()
        .resource(
            pod(
                "sleeper",
                "trap 'echo term > $OUT/signal; exit 0' TERM; while true; do sleep 0.1; done"))
        .create();
    await(() -> "Running".equals(phase("sleeper")) && !kubelet.processes().isEmpty());
    Process process = kubelet.processes().get(0);
    client.pods().inNamespace("default").withName("sleeper").delete();
    await(() -> !process.isAlive());
    assertThat(
            Files.readString(workDir.resolve("pods/sleeper-attempt-1/volumes/out/signal")).trim())
        .isEqualTo("term");
  }

  @Test
  void aPodOfTheSameNameStartsOnceThePreviousOnesProcessHasExited() throws Exception {
    KubernetesClient client = cluster.client();
    // Stops slowly on SIGTERM, as a trainer does when it finishes its step and checkpoints first.
    client
        .pods()
        .resource(pod("worker", "trap 'sleep 2; exit 0' TERM; while true; do sleep 0.1; done"))
        .create();
    await(() -> "Running".equals(phase("worker")) && !kubelet.processes().isEmpty());
    Process first = kubelet.processes().get(0);
    client.pods().inNamespace("default").withName("worker").delete();
    await(() -> client.pods().inNamespace("default").withName("worker").get() == null);
    Pod next = pod("worker", "echo second > $OUT/started; exit 0");
    next.getMetadata().setLabels(Map.of("mpj.dev/attempt", "2"));
    client.pods().resource(next).create();
    assertThat(first.isAlive())
        .as("the first process still stops while the next pod arrives")
        .isTrue();

    await(() -> "Succeeded".equals(phase("worker")));
    assertThat(first.isAlive()).isFalse();
    assertThat(
            Files.readString(workDir.resolve("pods/worker-attempt-2/volumes/out/started")).trim())
        .isEqualTo("second");
  }

  private String phase(String name) {
    Pod pod = cluster.client().pods().inNamespace("default").withName(name).get();
    return pod == null || pod.getStatus() == null ? null : pod.getStatus().getPhase();
  }

  private static Pod pod(String name, String script) {
    List<String> command = new ArrayList<>(List.of("sh", "-c", script));
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .endMetadata()
        .withNewSpec()
        .withTerminationGracePeriodSeconds(5L)
        .addNewContainer()
        .withName("main")
        .withImage("busybox")
        .withCommand(command)
        .addNewEnv()
        .withName("TOKEN")
        .withNewValueFrom()
        .withNewSecretKeyRef()
        .withName("token")
        .withKey("token")
        .endSecretKeyRef()
        .endValueFrom()
        .endEnv()
        .addNewEnv()
        .withName("OUT")
        .withValue("/out")
        .endEnv()
        .addNewEnv()
        .withName("CONFIG")
        .withValue("/etc/mpj/config.yaml")
        .endEnv()
        .addNewEnv()
        .withName("ADDR")
        .withValue("job-worker-0.job.default.svc")
        .endEnv()
        .addNewVolumeMount()
        .withName("config")
        .withMountPath("/etc/mpj")
        .endVolumeMount()
        .addNewVolumeMount()
        .withName("out")
        .withMountPath("/out")
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName("config")
        .withNewConfigMap()
        .withName("cfg")
        .endConfigMap()
        .endVolume()
        .addNewVolume()
        .withName("out")
        .withNewEmptyDir()
        .endEmptyDir()
        .endVolume()
        .endSpec()
        .build();
  }

  private void await(BooleanSupplier condition) throws Exception {
    Eventually.until(
        Duration.ofSeconds(20), condition::getAsBoolean, () -> "the kubelet said: " + log);
  }
}
