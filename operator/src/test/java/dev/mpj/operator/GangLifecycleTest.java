package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator against the mock API server in CRUD mode: a job's gang from creation to its end. */
class GangLifecycleTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    operator = startOperator();
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    cluster.close();
  }

  private MpjOperator startOperator() {
    return MpjOperator.start(
        cluster.client, OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  @Test
  void twoReplicaJobGetsItsConfigServiceSecretAndPodsAndRuns() {
    MixedPrecisionJob applied = MockCluster.quickstart("digits");
    applied.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "gpu-queue"));
    cluster.apply(applied);

    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    MixedPrecisionJob job = cluster.job("digits");
    String uid = job.getMetadata().getUid();

    var config =
        cluster.client.configMaps().inNamespace(MockCluster.NS).withName("digits-config").get();
    assertThat(config.getData().get("config.yaml"))
        .contains("jobName: digits")
        .contains("replicas: 2")
        .contains("microBatch: 32");
    assertOwned(config.getMetadata().getOwnerReferences(), uid);
    var service =
        cluster.client.services().inNamespace(MockCluster.NS).withName("digits-workers").get();
    assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(service.getSpec().getSelector()).containsEntry(Crd.LABEL_JOB_NAME, "digits");
    assertOwned(service.getMetadata().getOwnerReferences(), uid);
    var secret =
        cluster.client.secrets().inNamespace(MockCluster.NS).withName("digits-token").get();
    assertOwned(secret.getMetadata().getOwnerReferences(), uid);
    var claim =
        cluster
            .client
            .persistentVolumeClaims()
            .inNamespace(MockCluster.NS)
            .withName("digits-checkpoints")
            .get();
    assertThat(claim.getSpec().getResources().getRequests().get("storage"))
        .isEqualTo(new Quantity("1Gi"));
    assertOwned(claim.getMetadata().getOwnerReferences(), uid);

    List<Pod> pods = cluster.pods("digits");
    assertThat(pods)
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("digits-worker-0", "digits-worker-1");
    for (int rank = 0; rank < 2; rank++) {
      Pod pod = pods.get(rank);
      assertOwned(pod.getMetadata().getOwnerReferences(), uid);
      assertThat(pod.getMetadata().getLabels())
          .containsEntry("app.kubernetes.io/name", "mpj-trainer")
          .containsEntry("app.kubernetes.io/instance", "digits")
          .containsEntry("app.kubernetes.io/component", "worker")
          .containsEntry("app.kubernetes.io/managed-by", "mpj-operator")
          .containsEntry(Crd.LABEL_JOB_NAME, "digits")
          .containsEntry(Crd.LABEL_REPLICA_INDEX, Integer.toString(rank))
          .containsEntry(Crd.LABEL_ATTEMPT, "1")
          .containsEntry("kueue.x-k8s.io/queue-name", "gpu-queue");
      assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
      Container c = pod.getSpec().getContainers().get(0);
      Map<String, String> env =
          c.getEnv().stream()
              .filter(e -> e.getValue() != null)
              .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
      assertThat(env)
          .containsEntry("MPJ_JOB_NAME", "digits")
          .containsEntry("MPJ_RANK", Integer.toString(rank))
          .containsEntry("MPJ_WORLD_SIZE", "2")
          .containsEntry("MPJ_COORDINATOR_ADDR", "digits-worker-0.digits-workers.team-a.svc")
          .containsEntry("MPJ_COORDINATOR_PORT", "29500")
          .containsEntry("MPJ_ATTEMPT", "1")
          .containsEntry("MPJ_CONFIG", "/etc/mpj/config.yaml")
          .containsEntry("MPJ_CHECKPOINT_DIR", "/var/run/mpj/checkpoints")
          .containsEntry("MPJ_OUTPUT_DIR", "/var/run/mpj/output");
      EnvVar token =
          c.getEnv().stream()
              .filter(e -> e.getName().equals("MPJ_JOB_TOKEN"))
              .findFirst()
              .orElseThrow();
      assertThat(token.getValueFrom().getSecretKeyRef().getName()).isEqualTo("digits-token");
      assertThat(c.getResources().getRequests()).containsEntry("nvidia.com/gpu", new Quantity("1"));
      assertThat(c.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
      assertThat(c.getResources().getRequests()).containsEntry("memory", new Quantity("2Gi"));
      var sc = c.getSecurityContext();
      assertThat(sc.getRunAsNonRoot()).isTrue();
      assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
      assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
      assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(pod.getSpec().getSecurityContext().getSeccompProfile().getType())
          .isEqualTo("RuntimeDefault");
      boolean mountsCheckpoints =
          c.getVolumeMounts().stream()
              .anyMatch(m -> m.getMountPath().equals(JobNames.CHECKPOINT_DIR));
      assertThat(mountsCheckpoints)
          .as("only rank 0 mounts the checkpoint volume")
          .isEqualTo(rank == 0);
    }

    // The pods are created before the reconcile that created them writes the status.
    eventually(() -> assertThat(cluster.job("digits").getStatus()).isNotNull());
    assertThat(condition(cluster.job("digits"), "Reconciling").getStatus()).isEqualTo("True");
    assertThat(condition(cluster.job("digits"), "Stalled").getStatus()).isEqualTo("False");
    assertThat(condition(cluster.job("digits"), "Ready").getStatus()).isEqualTo("False");

    pods.forEach(p -> cluster.markRunning(p, "10.0.0.1" + pods.indexOf(p)));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    job = cluster.job("digits");
    assertThat(job.getStatus().readyReplicas).isEqualTo(2);
    assertThat(job.getStatus().observedGeneration).isEqualTo(job.getMetadata().getGeneration());
    assertThat(condition(job, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(job, "Reconciling").getStatus()).isEqualTo("False");
    assertThat(condition(job, "Running").getStatus()).isEqualTo("True");
    assertThat(reasons("digits")).contains("Sized", "Started", "Running");
  }

  @Test
  void aJobWaitingForFreeGpusIsReconcilingNotStalled() {
    MixedPrecisionJob applied = MockCluster.quickstart("big");
    // 16 replicas of 1 GPU on a cluster of 8 GPUs: it fits one GPU, the cluster lacks GPUs.
    applied.getSpec().replicas.min = 16;
    applied.getSpec().replicas.max = 16;
    cluster.apply(applied);

    eventually(
        () ->
            assertThat(condition(cluster.job("big"), "Reconciling").getReason())
                .isEqualTo("WaitingForGpus"));
    MixedPrecisionJob job = cluster.job("big");
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Pending);
    assertThat(condition(job, "Reconciling").getStatus()).isEqualTo("True");
    assertThat(condition(job, "Stalled").getStatus()).isEqualTo("False");
    assertThat(condition(job, "Ready").getStatus()).isEqualTo("False");
    assertThat(job.getStatus().message).startsWith("waiting for GPUs").contains("16");
    assertThat(cluster.pods("big")).isEmpty();
    List<Event> waiting =
        cluster.events("big").stream().filter(e -> "WaitingForGpus".equals(e.getReason())).toList();
    assertThat(waiting).hasSize(1);
    assertThat(waiting.get(0).getType()).isEqualTo("Normal");
  }

  @Test
  void aFailedPodRestartsTheWholeGangExactlyOnce() {
    runningJob("digits", job -> {});
    String failedUid = cluster.pods("digits").get(1).getMetadata().getUid();
    cluster.markExited(cluster.pods("digits").get(1), 137);

    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    assertThat(cluster.pods("digits")).noneMatch(p -> p.getMetadata().getUid().equals(failedUid));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(job.getStatus().restarts).isEqualTo(1);
    assertThat(job.getStatus().attempt).isEqualTo(2);
    assertThat(cluster.pods("digits").get(0).getSpec().getContainers().get(0).getEnv())
        .contains(new EnvVar("MPJ_ATTEMPT", "2", null));

    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.2"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1);
    assertThat(cluster.pods("digits")).hasSize(2);
    assertThat(reasons("digits")).contains("ReplicaFailed", "Restarting");
    assertThat(reasons("digits").stream().filter("Restarting"::equals)).hasSize(1);
  }

  @Test
  void aPreemptedPodRestartsTheGangWithoutSpendingTheBackoffLimit() {
    runningJob("digits", job -> job.getSpec().runPolicy.backoffLimit = 0);
    cluster.markDisrupted(cluster.pods("digits").get(1), "PreemptionByScheduler", 143);

    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.2"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(job.getStatus().restarts).isZero();
    assertThat(job.getStatus().disruptions).isEqualTo(1);
    assertThat(job.getStatus().restartHistory)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.reason).isEqualTo("Disrupted");
              assertThat(r.disruption).isEqualTo("PreemptionByScheduler");
              assertThat(r.message).contains("digits-worker-1");
            });
    assertThat(reasons("digits")).contains("Disrupted").doesNotContain("ReplicaFailed");

    // A real failure afterwards still meets the backoff limit of 0.
    cluster.markExited(cluster.pods("digits").get(0), 1);
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    assertThat(condition(cluster.job("digits"), "Failed").getReason())
        .isEqualTo("BackoffLimitExceeded");
  }

  @Test
  void exceedingBackoffLimitFailsAndStalls() {
    runningJob("digits", job -> job.getSpec().runPolicy.backoffLimit = 1);
    cluster.markExited(cluster.pods("digits").get(0), 1);
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.3"));
    cluster.markExited(cluster.pods("digits").get(1), 1);

    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(job.getStatus().restarts).isEqualTo(1);
    assertThat(condition(job, "Stalled").getStatus()).isEqualTo("True");
    assertThat(condition(job, "Stalled").getReason()).isEqualTo("BackoffLimitExceeded");
    assertThat(condition(job, "Ready").getStatus()).isEqualTo("False");
    assertThat(job.getStatus().message)
        .contains("digits-worker-1")
        .contains("exit code 1")
        .contains("backoffLimit 1");
    assertThat(job.getStatus().completionTime).isNotNull();
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .allMatch(p -> "Failed".equals(p.getStatus().getPhase())));
    assertThat(reasons("digits")).contains("BackoffLimitExceeded");
  }

  @Test
  void exitCodeTwoFailsAtOnceWithoutRestart() {
    runningJob("digits", job -> {});
    cluster.markExited(cluster.pods("digits").get(0), 2);

    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(job.getStatus().restarts).isZero();
    assertThat(condition(job, "Failed").getReason()).isEqualTo("InvalidConfig");
    assertThat(condition(job, "Stalled").getStatus()).isEqualTo("True");
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .extracting(p -> p.getMetadata().getName())
                .containsExactly("digits-worker-0"));
    assertThat(cluster.pods("digits").get(0).getMetadata().getLabels())
        .containsEntry(Crd.LABEL_ATTEMPT, "1");
  }

  @Test
  void exitCodeThreeFailsForPrecisionParity() {
    runningJob("digits", job -> {});
    cluster.markExited(cluster.pods("digits").get(0), 3);
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    assertThat(condition(cluster.job("digits"), "Failed").getReason()).isEqualTo("PrecisionParity");
    assertThat(cluster.job("digits").getStatus().restarts).isZero();
  }

  @Test
  void suspendStopsThePodsAndResumeStartsTheNextAttempt() {
    runningJob("digits", job -> {});
    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("digits")
        .edit(
            j -> {
              j.getSpec().runPolicy.suspend = true;
              return j;
            });
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Suspended));
    eventually(() -> assertThat(cluster.pods("digits")).isEmpty());
    assertThat(condition(cluster.job("digits"), "Suspended").getStatus()).isEqualTo("True");

    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("digits")
        .edit(
            j -> {
              j.getSpec().runPolicy.suspend = false;
              return j;
            });
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.4"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    assertThat(cluster.job("digits").getStatus().restarts).as("a resume is not a failure").isZero();
    assertThat(condition(cluster.job("digits"), "Suspended").getStatus()).isEqualTo("False");
    assertThat(reasons("digits")).contains("Suspended");
  }

  @Test
  void aJobCreatedSuspendedWaitsForAdmission() {
    MixedPrecisionJob job = MockCluster.quickstart("queued");
    job.getSpec().runPolicy.suspend = true;
    cluster.apply(job);
    eventually(
        () ->
            assertThat(cluster.job("queued").getStatus())
                .isNotNull()
                .satisfies(s -> assertThat(s.phase).isEqualTo(JobPhase.Suspended)));
    assertThat(cluster.pods("queued")).isEmpty();
    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("queued")
        .edit(
            j -> {
              j.getSpec().runPolicy.suspend = false;
              return j;
            });
    eventually(() -> assertThat(cluster.pods("queued")).hasSize(2));
  }

  @Test
  void exceedingTheDeadlineFailsWithDeadlineExceeded() {
    runningJob("digits", job -> job.getSpec().runPolicy.activeDeadlineSeconds = 2L);
    eventually(
        Duration.ofSeconds(15),
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(condition(job, "Failed").getReason()).isEqualTo("DeadlineExceeded");
    assertThat(condition(job, "Stalled").getStatus()).isEqualTo("True");
    eventually(() -> assertThat(cluster.pods("digits")).isEmpty());
  }

  @Test
  void aFinishedJobIsDeletedWithWhatItOwnsAfterItsTtl() {
    runningJob("digits", job -> job.getSpec().runPolicy.ttlSecondsAfterFinished = 1);
    cluster.markExited(cluster.pods("digits").get(1), 0);
    cluster.markExited(cluster.pods("digits").get(0), 0);
    eventually(() -> assertThat(reasons("digits")).contains("Succeeded"));
    eventually(Duration.ofSeconds(15), () -> assertThat(cluster.job("digits")).isNull());
    assertThat(cluster.pods("digits")).isEmpty();
    assertThat(
            cluster.client.configMaps().inNamespace(MockCluster.NS).withName("digits-config").get())
        .isNull();
    assertThat(
            cluster.client.services().inNamespace(MockCluster.NS).withName("digits-workers").get())
        .isNull();
    assertThat(cluster.client.secrets().inNamespace(MockCluster.NS).withName("digits-token").get())
        .isNull();
    assertThat(
            cluster
                .client
                .persistentVolumeClaims()
                .inNamespace(MockCluster.NS)
                .withName("digits-checkpoints")
                .get())
        .isNull();
  }

  @Test
  void rankZeroSucceedingSucceedsTheJob() {
    runningJob("digits", job -> {});
    cluster.markExited(cluster.pods("digits").get(1), 0);
    cluster.markExited(cluster.pods("digits").get(0), 0);
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Succeeded));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(condition(job, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(job, "Succeeded").getStatus()).isEqualTo("True");
    assertThat(condition(job, "Stalled").getStatus()).isEqualTo("False");
    assertThat(job.getStatus().completionTime).isNotNull();
    assertThat(cluster.pods("digits")).hasSize(2);
  }

  @Test
  void anInvalidSpecCreatesNothingStallsAndResumesOnceFixed() {
    MixedPrecisionJob job = MockCluster.quickstart("broken");
    job.getSpec().training.globalBatchSize = 0;
    cluster.apply(job);

    eventually(() -> assertThat(cluster.job("broken").getStatus()).isNotNull());
    MixedPrecisionJob seen = cluster.job("broken");
    assertThat(condition(seen, "Stalled").getStatus()).isEqualTo("True");
    assertThat(condition(seen, "Stalled").getReason()).isEqualTo("InvalidSpec");
    assertThat(seen.getStatus().message).contains("spec.training.globalBatchSize");
    eventually(
        () ->
            assertThat(cluster.events("broken"))
                .anySatisfy(
                    e -> assertThat(e.getMessage()).contains("spec.training.globalBatchSize")));
    assertThat(cluster.pods("broken")).isEmpty();

    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("broken")
        .edit(
            j -> {
              j.getSpec().training.globalBatchSize = 64;
              return j;
            });
    eventually(() -> assertThat(cluster.pods("broken")).hasSize(2));
    eventually(
        () ->
            assertThat(condition(cluster.job("broken"), "Stalled").getStatus()).isEqualTo("False"));
    assertThat(cluster.events("broken").stream().filter(e -> "InvalidSpec".equals(e.getReason())))
        .hasSize(1);
  }

  @Test
  void changingReplicasWhileRunningRestartsTheGangWithTheNewSize() {
    runningJob("digits", job -> {});
    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("digits")
        .edit(
            j -> {
              // 4 divides the global batch of 64; the sizer refuses a split that does not.
              j.getSpec().replicas.min = 4;
              j.getSpec().replicas.max = 4;
              return j;
            });
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(4)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    assertThat(cluster.job("digits").getStatus().restarts).as("a resize is not a failure").isZero();
    var config =
        cluster.client.configMaps().inNamespace(MockCluster.NS).withName("digits-config").get();
    assertThat(config.getData().get("config.yaml")).contains("replicas: 4");
  }

  @Test
  void aRestartedOperatorAdoptsThePodsAndKeepsTheRestartCount() {
    runningJob("digits", job -> {});
    cluster.markExited(cluster.pods("digits").get(0), 1);
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    cluster.markRunning(cluster.pods("digits").get(0), "10.0.0.5");
    eventually(() -> assertThat(cluster.job("digits").getStatus().readyReplicas).isEqualTo(1));

    operator.close();
    List<String> uids = cluster.pods("digits").stream().map(p -> p.getMetadata().getUid()).toList();
    cluster.markRunning(cluster.pods("digits").get(1), "10.0.0.6");
    operator = startOperator();

    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    assertThat(cluster.pods("digits"))
        .extracting(p -> p.getMetadata().getUid())
        .containsExactlyElementsOf(uids);
    assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1);

    cluster.markExited(cluster.pods("digits").get(1), 1);
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "3")));
    assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(2);
    assertThat(cluster.job("digits").getStatus().attempt).isEqualTo(3);
  }

  /**
   * Applies the quick-start under {@code name}, changed by {@code change}, and marks its pods
   * Running.
   */
  private void runningJob(String name, Consumer<MixedPrecisionJob> change) {
    MixedPrecisionJob job = MockCluster.quickstart(name);
    change.accept(job);
    cluster.apply(job);
    eventually(() -> assertThat(cluster.pods(name)).hasSize(2));
    cluster.pods(name).forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(() -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Running));
  }

  private List<String> reasons(String job) {
    return cluster.events(job).stream().map(Event::getReason).toList();
  }

  private static void assertOwned(List<OwnerReference> refs, String uid) {
    assertThat(refs)
        .singleElement()
        .satisfies(
            ref -> {
              assertThat(ref.getUid()).isEqualTo(uid);
              assertThat(ref.getKind()).isEqualTo("MixedPrecisionJob");
              assertThat(ref.getController()).isTrue();
            });
  }

  static Condition condition(MixedPrecisionJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no condition " + type + " in " + job.getStatus().conditions));
  }
}
