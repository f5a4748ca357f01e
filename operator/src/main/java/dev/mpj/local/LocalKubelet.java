package dev.mpj.local;

import dev.mpj.api.Crd;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.resources.ReferenceGang;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The scheduler and kubelet of {@code mpj local}: it binds each new Pod to this machine, runs its
 * container as a process with the pod's command, arguments and environment, maps its volumes to
 * folders under the work dir, and reports phase and exit code back through the API as a kubelet
 * would. Deleting a pod sends SIGTERM, then SIGKILL after the pod's grace period.
 */
public final class LocalKubelet implements AutoCloseable {

  private static final long DEFAULT_GRACE_SECONDS = 30;

  private final KubernetesClient client;
  private final Path workDir;
  private final Path trainerLauncher;
  private final FailureInjection failure;
  private final Consumer<String> log;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "mpj-local-kubelet");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, Replica> running = new ConcurrentHashMap<>();
  private final Map<String, Integer> coordinatorPorts = new ConcurrentHashMap<>();
  private volatile boolean closing;
  private SharedIndexInformer<Pod> informer;

  /** A pod's process and where it lives on this machine. */
  record Replica(
      String key,
      String uid,
      Process process,
      Path dir,
      long graceSeconds,
      AtomicBoolean stopping) {}

  public LocalKubelet(
      KubernetesClient client,
      Path workDir,
      Path trainerLauncher,
      FailureInjection failure,
      Consumer<String> log) {
    this.client = client;
    this.workDir = workDir;
    this.trainerLauncher = trainerLauncher;
    this.failure = failure;
    this.log = log;
  }

  public void start() {
    informer =
        client
            .pods()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    executor.execute(() -> admit(pod));
                  }

                  @Override
                  public void onUpdate(Pod oldPod, Pod pod) {}

                  @Override
                  public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                    executor.execute(() -> terminate(pod));
                  }
                });
  }

  /** Processes running now, for tests and for the shutdown summary. */
  public List<Process> processes() {
    return running.values().stream().map(Replica::process).toList();
  }

  private synchronized void admit(Pod pod) {
    if (closing
        || pod.getStatus() != null
            && pod.getStatus().getPhase() != null
            && !"Pending".equals(pod.getStatus().getPhase())) {
      return;
    }
    String key = key(pod);
    Replica previous = running.get(key);
    if (previous != null) {
      if (!previous.uid().equals(pod.getMetadata().getUid())) {
        // The next attempt's pod of the same name, while the last one's process still stops: it
        // starts
        // when that process has exited (admitSuccessor).
        log.accept("pod " + key + " waits for the process of its previous incarnation to exit");
      }
      return;
    }
    Map<String, String> selector = pod.getSpec().getNodeSelector();
    Map<String, String> nodeLabels =
        client.nodes().withName(LocalCluster.NODE_NAME).get().getMetadata().getLabels();
    if (selector != null && !nodeLabels.entrySet().containsAll(selector.entrySet())) {
      log.accept(
          "pod " + key + " stays Pending: its nodeSelector " + selector + " matches no node");
      return;
    }
    try {
      start(pod);
    } catch (RuntimeException | IOException e) {
      log.accept("pod " + key + " could not start: " + e.getMessage());
      reportFinished(pod, 128, "StartError", e.getMessage());
    }
  }

  private void start(Pod pod) throws IOException {
    String key = key(pod);
    String attempt = pod.getMetadata().getLabels().getOrDefault(Crd.LABEL_ATTEMPT, "1");
    Path dir = workDir.resolve("pods").resolve(pod.getMetadata().getName() + "-attempt-" + attempt);
    Files.createDirectories(dir);
    Container container = pod.getSpec().getContainers().get(0);

    PodProcess mapped = PodProcess.of(client, workDir, pod, dir);
    Map<String, String> env = mapped.environment();
    List<String> command = mapped.command();
    if (container.getTerminationMessagePath() != null) {
      // The kubelet bind-mounts terminationMessagePath from a file of its own: here, the pod's
      // folder's.
      Path message = terminationMessage(dir);
      Files.deleteIfExists(message);
      env.put(TrainerContract.ENV_TERMINATION_MESSAGE_PATH, message.toString());
    }
    if ("mpj-trainer".equals(command.get(0))) {
      command.set(0, trainerLauncher.toString());
    }
    bindAndPublishPorts(pod, container, env);
    // Trainers stop when this process is gone, however it ended.
    env.put(TrainerContract.ENV_LOCAL_KUBELET_PID, String.valueOf(ProcessHandle.current().pid()));

    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().putAll(env);
    builder.redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile());
    Process process = builder.start();
    Files.writeString(dir.resolve("pid"), String.valueOf(process.pid()));
    long grace =
        pod.getSpec().getTerminationGracePeriodSeconds() != null
            ? pod.getSpec().getTerminationGracePeriodSeconds()
            : DEFAULT_GRACE_SECONDS;
    Replica replica =
        new Replica(key, pod.getMetadata().getUid(), process, dir, grace, new AtomicBoolean());
    running.put(key, replica);
    reportRunning(pod);
    if (failure != null
        && isTarget(pod, attempt)
        && env.containsKey(TrainerContract.ENV_OUTPUT_DIR)) {
      executor.execute(
          () ->
              killAtStep(
                  replica,
                  Path.of(env.get(TrainerContract.ENV_OUTPUT_DIR)).resolve("metrics.jsonl")));
    }
    executor.execute(() -> awaitExit(pod, replica));
  }

  private boolean isTarget(Pod pod, String attempt) {
    String rank = pod.getMetadata().getLabels().get(Crd.LABEL_REPLICA_INDEX);
    return "1".equals(attempt) && String.valueOf(failure.rank()).equals(rank);
  }

  private void killAtStep(Replica replica, Path metrics) {
    MetricsTail tail = new MetricsTail(metrics);
    while (replica.process().isAlive() && !closing) {
      if (tail.lastStep() >= failure.step()) {
        log.accept(
            "--fail: killing replica "
                + failure.rank()
                + " at step "
                + failure.step()
                + " (SIGKILL)");
        replica.process().destroyForcibly();
        return;
      }
      sleep(10);
    }
  }

  private void awaitExit(Pod pod, Replica replica) {
    int exitCode;
    try {
      exitCode = replica.process().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    running.remove(replica.key(), replica);
    if (!closing) {
      admitSuccessor(replica);
    }
    if (replica.stopping().get() || closing) {
      return;
    }
    // 137 = 128 + SIGKILL, as a container runtime reports a killed process.
    String reason = exitCode == 0 ? "Completed" : exitCode == 137 ? "Killed" : "Error";
    // As terminationMessagePolicy FallbackToLogsOnError: the file's message, else the log's tail.
    String message =
        readTerminationMessage(replica.dir())
            .orElseGet(() -> lastLines(replica.dir().resolve("log.txt")));
    reportFinished(pod, exitCode, reason, message);
  }

  /**
   * A later pod of the same name that came while {@code finished}'s process was still stopping:
   * start it now.
   */
  private void admitSuccessor(Replica finished) {
    String[] namespaceAndName = finished.key().split("/", 2);
    Pod next = client.pods().inNamespace(namespaceAndName[0]).withName(namespaceAndName[1]).get();
    if (next != null && !finished.uid().equals(next.getMetadata().getUid())) {
      admit(next);
    }
  }

  private void terminate(Pod pod) {
    Replica replica = running.get(key(pod));
    if (replica == null || !Objects.equals(replica.uid(), pod.getMetadata().getUid())) {
      return;
    }
    replica.stopping().set(true);
    stopGracefully(List.of(replica));
  }

  private void stopGracefully(List<Replica> replicas) {
    replicas.forEach(r -> r.process().destroy());
    long deadline =
        System.nanoTime()
            + TimeUnit.SECONDS.toNanos(
                replicas.stream().mapToLong(Replica::graceSeconds).max().orElse(0));
    for (Replica r : replicas) {
      long left = deadline - System.nanoTime();
      try {
        if (left <= 0 || !r.process().waitFor(left, TimeUnit.NANOSECONDS)) {
          log.accept("pod " + r.key() + " did not stop within its grace period: SIGKILL");
          r.process().destroyForcibly();
          r.process().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        r.process().destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * One machine has one set of ports: give each pod its own metrics port and each attempt of a job
   * its own coordinator port, as hostPort assignment would, and write them into the pod's spec so
   * that the operator and the replicas see the same numbers.
   */
  private void bindAndPublishPorts(Pod pod, Container container, Map<String, String> env) {
    if (env.containsKey(TrainerContract.ENV_METRICS_PORT)) {
      env.put(TrainerContract.ENV_METRICS_PORT, String.valueOf(freePort()));
    }
    if (env.containsKey(TrainerContract.ENV_COORDINATOR_PORT)) {
      String job =
          pod.getMetadata()
              .getLabels()
              .getOrDefault(Crd.LABEL_JOB_NAME, pod.getMetadata().getName());
      String attempt = pod.getMetadata().getLabels().getOrDefault(Crd.LABEL_ATTEMPT, "1");
      // A job's FP32 reference gang (schedule beside) meets apart from the job's own gang.
      String gang = pod.getMetadata().getLabels().getOrDefault(ReferenceGang.LABEL, "job");
      int port =
          coordinatorPorts.computeIfAbsent(
              pod.getMetadata().getNamespace() + "/" + job + "/" + gang + "/" + attempt,
              k -> freePort());
      env.put(TrainerContract.ENV_COORDINATOR_PORT, String.valueOf(port));
    }
    String name = pod.getMetadata().getName();
    String ns = pod.getMetadata().getNamespace();
    client
        .pods()
        .inNamespace(ns)
        .withName(name)
        .edit(
            p -> {
              Container c = p.getSpec().getContainers().get(0);
              for (EnvVar var : c.getEnv()) {
                if (var.getValueFrom() == null
                    && env.containsKey(var.getName())
                    && var.getName().endsWith("_PORT")) {
                  var.setValue(env.get(var.getName()));
                }
              }
              if (c.getPorts() != null && env.containsKey(TrainerContract.ENV_METRICS_PORT)) {
                for (ContainerPort port : c.getPorts()) {
                  if (TrainerContract.PORT_METRICS.equals(port.getName())) {
                    port.setContainerPort(
                        Integer.parseInt(env.get(TrainerContract.ENV_METRICS_PORT)));
                  }
                }
              }
              p.getSpec().setNodeName(LocalCluster.NODE_NAME);
              return p;
            });
  }

  private void reportRunning(Pod pod) {
    String now = Instant.now().toString();
    updateStatus(
        pod,
        p -> {
          p.getStatus().setPodIP("127.0.0.1");
          p.getStatus().setHostIP("127.0.0.1");
          p.getStatus().setStartTime(now);
          setStatus(
              p,
              "Running",
              now,
              new ContainerStateBuilder().withNewRunning().withStartedAt(now).endRunning().build());
        });
  }

  private void reportFinished(Pod pod, int exitCode, String reason, String message) {
    String now = Instant.now().toString();
    updateStatus(
        pod,
        p ->
            setStatus(
                p,
                exitCode == 0 ? "Succeeded" : "Failed",
                now,
                new ContainerStateBuilder()
                    .withNewTerminated()
                    .withExitCode(exitCode)
                    .withReason(reason)
                    .withMessage(message)
                    .withFinishedAt(now)
                    .endTerminated()
                    .build()));
  }

  /** The pod's phase, its Ready condition (ready while running) and its one container's state. */
  private static void setStatus(Pod p, String phase, String now, ContainerState state) {
    boolean running = "Running".equals(phase);
    Container container = p.getSpec().getContainers().get(0);
    p.getStatus().setPhase(phase);
    p.getStatus()
        .setConditions(
            List.of(
                new PodConditionBuilder()
                    .withType("Ready")
                    .withStatus(running ? "True" : "False")
                    .withLastTransitionTime(now)
                    .build()));
    p.getStatus()
        .setContainerStatuses(
            List.of(
                new ContainerStatusBuilder()
                    .withName(container.getName())
                    .withReady(running)
                    .withRestartCount(0)
                    .withImage(container.getImage())
                    .withState(state)
                    .build()));
  }

  /**
   * Updates the status of this very pod; a newer pod of the same name (the next attempt) is left
   * alone.
   */
  private void updateStatus(Pod pod, Consumer<Pod> change) {
    var resource =
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName());
    try {
      Pod current = resource.get();
      if (current == null
          || !Objects.equals(current.getMetadata().getUid(), pod.getMetadata().getUid())) {
        return;
      }
      if (current.getStatus() == null) {
        current.setStatus(new PodStatus());
      }
      change.accept(current);
      resource.updateStatus(current);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) { // a pod deleted meanwhile has no status to report
        log.accept("could not report the status of pod " + key(pod) + ": " + e.getMessage());
      }
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path terminationMessage(Path podDir) {
    return podDir.resolve("termination-log");
  }

  /**
   * What the process left in its termination message file, at most 4096 bytes as the kubelet keeps;
   * empty if nothing.
   */
  private static Optional<String> readTerminationMessage(Path podDir) {
    Path file = terminationMessage(podDir);
    try (var in = Files.newInputStream(file)) {
      String message =
          new String(
              in.readNBytes(TrainerContract.TERMINATION_MESSAGE_MAX_BYTES), StandardCharsets.UTF_8);
      return message.isBlank() ? Optional.empty() : Optional.of(message);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static String lastLines(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  private static String key(Pod pod) {
    return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops every process gracefully (SIGTERM, then SIGKILL after the grace period) and the informer.
   */
  @Override
  public void close() {
    closing = true;
    if (informer != null) {
      informer.close();
    }
    List<Replica> all = new ArrayList<>(running.values());
    all.sort(Comparator.comparing(Replica::key));
    all.forEach(r -> r.stopping().set(true));
    stopGracefully(all);
    executor.shutdownNow();
  }
}
