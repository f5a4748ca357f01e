package dev.mpj.bench;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.net.httpserver.HttpServer;
import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.cli.LocalCommand;
import dev.mpj.local.LocalCluster;
import dev.mpj.operator.MpjOperator;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj bench operator}: many jobs against the in-process API server of {@code mpj local},
 * with the pods simulated: a fake kubelet marks each pod Running as it appears, and one fake
 * trainer answers every rank 0's {@code /progress} with a step that grows. Measures the time from
 * the first apply to every job Running, reconciles per second, the operator's API requests per job
 * and minute once every job runs, and its heap and threads.
 */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description = {
      "Scale benchmark of the operator: N jobs of R replicas against the in-process API server,"
          + " pods simulated (no trainer processes).",
      "Prints the time from the first apply to all Running, reconciles per second, API requests per"
          + " job and minute at steady state (by kind), and the operator's heap and threads."
    })
public final class OperatorBenchCommand implements Callable<Integer> {
  static final String NAMESPACE = "bench";

  @Option(names = "--jobs", defaultValue = "1000", description = "Jobs (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(
      names = "--replicas",
      defaultValue = "4",
      description = "Replicas per job (default ${DEFAULT-VALUE}).")
  int replicas;

  @Option(
      names = "--steady-seconds",
      defaultValue = "30",
      description = "How long to count requests once every job runs (default ${DEFAULT-VALUE} s).")
  int steadySeconds;

  @Option(
      names = "--progress-interval",
      defaultValue = "10",
      description =
          "The operator's progress interval in seconds: how often it looks at a running job"
              + " (default ${DEFAULT-VALUE}, the operator's default).")
  int progressInterval;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "600",
      description = "Give up when the jobs are not all Running by then (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(
      names = "--apply-threads",
      defaultValue = "4",
      description =
          "Clients that apply the jobs at once, as a GitOps controller or several users would"
              + " (default ${DEFAULT-VALUE}; 1 applies one job at a time).")
  int applyThreads;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    LocalCommand.quietLogs();
    PrintWriter out = spec.commandLine().getOut();
    double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    out.printf(
        "mpj bench operator: %d jobs x %d replicas applied by %d clients, %d CPUs, load average"
            + " %.2f%n",
        jobs,
        replicas,
        Math.max(1, applyThreads),
        Runtime.getRuntime().availableProcessors(),
        loadBefore);
    out.printf("JIT: %s%n", jitCompilers());
    out.flush();
    Path podsDir = Files.createTempDirectory("mpj-bench-operator");
    ApiRequestCounter requests = new ApiRequestCounter();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ExecutorService kubeletPool = Executors.newFixedThreadPool(2);
    try (LocalCluster cluster = LocalCluster.start(jobs * replicas, new Quantity("16Gi"), podsDir);
        FakeTrainer trainer = FakeTrainer.start()) {
      KubernetesClient bench = cluster.client();
      Map<String, Instant> running = new ConcurrentHashMap<>();
      CountDownLatch allRunning = new CountDownLatch(jobs);
      SharedIndexInformer<MixedPrecisionJob> jobWatch =
          bench
              .resources(MixedPrecisionJob.class)
              .inNamespace(NAMESPACE)
              .inform(whenRunning(running, allRunning));
      Set<String> started = ConcurrentHashMap.newKeySet();
      SharedIndexInformer<Pod> kubelet =
          bench
              .pods()
              .inNamespace(NAMESPACE)
              .inform(
                  new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                      if (started.add(pod.getMetadata().getUid())) {
                        kubeletPool.submit(() -> markRunning(bench, pod));
                      }
                    }

                    @Override
                    public void onUpdate(Pod before, Pod pod) {}

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {}
                  });

      collectGarbage();
      long heapBefore = usedHeap();
      int threadsBefore = Thread.activeCount();
      KubernetesClient operatorClient =
          new KubernetesClientBuilder()
              .withConfig(bench.getConfiguration())
              .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("mpj-bench", requests))
              .build();
      MpjOperator operator =
          MpjOperator.start(
              operatorClient,
              OperatorSettings.defaults()
                  .withNamespaces(Set.of(NAMESPACE))
                  .withPorts(OperatorSettings.DEFAULT_COORDINATOR_PORT, trainer.port())
                  .withProgressInterval(Duration.ofSeconds(progressInterval))
                  .withMeterRegistry(registry));
      try {
        long first = System.nanoTime();
        double cpuAtFirst = cpuSeconds();
        long threadsStartedAtFirst =
            ManagementFactory.getThreadMXBean().getTotalStartedThreadCount();
        apply(bench, out, first, running);
        double applySeconds = seconds(System.nanoTime() - first);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        boolean done = false;
        while (!done && System.nanoTime() < deadline) {
          done = allRunning.await(10, TimeUnit.SECONDS);
          if (!done) {
            out.printf(
                "  [%6.1f s] %d of %d jobs Running%n",
                seconds(System.nanoTime() - first), running.size(), jobs);
            out.flush();
          }
        }
        double rampSeconds = seconds(System.nanoTime() - first);
        double rampCpu = cpuSeconds() - cpuAtFirst;
        double rampReconciles = reconciles(registry);
        Map<String, Long> rampRequests = requests.snapshot();
        if (!done) {
          out.printf(
              "NOT all Running after %d s: %d of %d jobs Running%n",
              timeoutSeconds, running.size(), jobs);
        }
        out.printf(
            "apply %d jobs: %.1f s; first apply to all Running: %.1f s (%d jobs Running)%n",
            jobs, applySeconds, rampSeconds, running.size());
        out.printf(
            "ramp: %.0f reconciles, %.1f per second; %d API requests by the operator; CPU time of"
                + " this process (API server, kubelet, operator) %.1f s, %.1f ms per job%n",
            rampReconciles,
            rampReconciles / rampSeconds,
            total(rampRequests),
            rampCpu,
            rampCpu * 1000 / jobs);
        out.printf(
            "  threads started in the ramp: %d (common pool parallelism %d)%n",
            ManagementFactory.getThreadMXBean().getTotalStartedThreadCount()
                - threadsStartedAtFirst,
            ForkJoinPool.getCommonPoolParallelism());
        print(out, "  ", rampRequests, 1);
        out.flush();

        // Steady state: every job runs and reports progress.
        double reconcilesBefore = reconciles(registry);
        Map<String, Long> before = requests.snapshot();
        long steadyStart = System.nanoTime();
        double steadyCpuStart = cpuSeconds();
        Thread.sleep(steadySeconds * 1000L);
        double steadyMinutes = seconds(System.nanoTime() - steadyStart) / 60;
        Map<String, Long> steady = ApiRequestCounter.minus(requests.snapshot(), before);
        double steadyReconciles = reconciles(registry) - reconcilesBefore;
        double steadyCpu = cpuSeconds() - steadyCpuStart;
        double perJobMinute = total(steady) / (double) running.size() / steadyMinutes;
        out.printf(
            "steady state (%d s, progress interval %d s): %.1f reconciles per second; %.2f API"
                + " requests per job per minute%n",
            steadySeconds, progressInterval, steadyReconciles / (steadyMinutes * 60), perJobMinute);
        print(out, "  ", steady, running.size() * steadyMinutes);
        long listsAllPods =
            steady.entrySet().stream()
                .filter(e -> ApiRequestKind.listsAllPods(e.getKey()))
                .mapToLong(Map.Entry::getValue)
                .sum();
        out.printf("  lists of every pod at steady state: %d%n", listsAllPods);
        out.printf(
            "  CPU time of this process at steady state: %.2f cores%n",
            steadyCpu / (steadyMinutes * 60));

        collectGarbage();
        long heapWith = usedHeap();
        int threadsWith = Thread.activeCount();
        long maxHeap = Runtime.getRuntime().maxMemory();
        operator.close();
        operatorClient.close();
        collectGarbage();
        long heapWithout = usedHeap();
        out.printf(
            "heap after GC: %d MiB in all (API server, its %d jobs and %d pods, kubelet and"
                + " operator; -Xmx %d MiB); the operator's share (heap before minus after stopping"
                + " it): %d MiB; before the operator started: %d MiB%n",
            mib(heapWith),
            jobs,
            jobs * replicas,
            mib(maxHeap),
            mib(heapWith - heapWithout),
            mib(heapBefore));
        out.printf(
            "threads: %d with the operator, %d before it started (operator: %d)%n",
            threadsWith, threadsBefore, threadsWith - threadsBefore);
        out.printf(
            "load average: %.2f before, %.2f after%n",
            loadBefore, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        out.flush();
        return done ? 0 : 1;
      } finally {
        operator.close();
        operatorClient.close();
        kubelet.close();
        jobWatch.close();
      }
    } finally {
      kubeletPool.shutdownNow();
      deleteTree(podsDir);
    }
  }

  /** Which JIT compilers run: C2 compiling the libraries costs much of a cold ramp's CPU time. */
  static String jitCompilers() {
    String level =
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
            .getVMOption("TieredStopAtLevel")
            .getValue();
    return "1".equals(level)
        ? "C1 only (-XX:TieredStopAtLevel=1, as the operator image runs)"
        : "C1 and C2 (TieredStopAtLevel=" + level + ")";
  }

  /**
   * Creates the jobs {@code job-00000} … from {@code --apply-threads} threads, each taking the next
   * number, and prints progress every 100 jobs; returns when every create has returned.
   */
  private void apply(
      KubernetesClient bench, PrintWriter out, long first, Map<String, Instant> running)
      throws InterruptedException, ExecutionException {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger applied = new AtomicInteger();
    String manifest = manifest(replicas);
    ExecutorService appliers = Executors.newFixedThreadPool(Math.max(1, applyThreads));
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < Math.max(1, applyThreads); t++) {
        workers.add(
            appliers.submit(
                () -> {
                  MixedPrecisionJob template = JobFiles.parse(manifest);
                  template.getMetadata().setNamespace(NAMESPACE);
                  for (int i = next.getAndIncrement(); i < jobs; i = next.getAndIncrement()) {
                    template.getMetadata().setName(String.format("job-%05d", i));
                    bench.resource(template).create();
                    int done = applied.incrementAndGet();
                    if (done % 100 == 0 && done < jobs) {
                      synchronized (out) {
                        out.printf(
                            "  [%6.1f s] %d jobs applied, %d Running%n",
                            seconds(System.nanoTime() - first), done, running.size());
                        out.flush();
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> worker : workers) {
        worker.get();
      }
    } finally {
      appliers.shutdownNow();
    }
  }

  /** The quick-start job with {@code replicas} replicas (its global batch divides over them). */
  static String manifest(int replicas) {
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata:
          name: bench
        spec:
          precision: fp16-mixed
          model:
            architecture: mlp
            mlp: {hiddenSizes: [128, 128], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
          training:
            globalBatchSize: %d
            steps: 100000
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
          replicas: {min: %d, max: %d}
          resources: {gpusPerReplica: 1, gpuMemory: 16Gi, cpu: "1", memory: 2Gi}
          checkpoint:
            intervalSteps: 50
            volume: {size: 1Gi}
        """
        .formatted(16 * replicas, replicas, replicas);
  }

  private static ResourceEventHandler<MixedPrecisionJob> whenRunning(
      Map<String, Instant> running, CountDownLatch allRunning) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(MixedPrecisionJob job) {
        seen(job);
      }

      @Override
      public void onUpdate(MixedPrecisionJob before, MixedPrecisionJob job) {
        seen(job);
      }

      @Override
      public void onDelete(MixedPrecisionJob job, boolean unknown) {}

      private void seen(MixedPrecisionJob job) {
        if (job.getStatus() != null
            && job.getStatus().phase == JobPhase.Running
            && running.putIfAbsent(job.getMetadata().getName(), Instant.now()) == null) {
          allRunning.countDown();
        }
      }
    };
  }

  /**
   * Plays the kubelet: the trainer container runs, at the loopback address. One status update of
   * the pod as the informer delivered it (a kubelet writes its pods' status without reading them
   * first); should the pod have changed meanwhile (409), read and written again.
   */
  private static void markRunning(KubernetesClient client, Pod pod) {
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .resource(new PodBuilder(pod).withStatus(runningStatus()).build())
          .updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        return; // Deleted meanwhile: nothing to run.
      }
      try {
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .editStatus(
                p -> {
                  p.setStatus(runningStatus());
                  return p;
                });
      } catch (KubernetesClientException gone) {
        // Deleted meanwhile: nothing to run.
      }
    }
  }

  private static PodStatus runningStatus() {
    return new PodStatusBuilder()
        .withPhase("Running")
        .withPodIP("127.0.0.1")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("trainer")
                .withReady(true)
                .withNewState()
                .withNewRunning()
                .withStartedAt(Instant.now().toString())
                .endRunning()
                .endState()
                .build())
        .build();
  }

  private static void print(PrintWriter out, String indent, Map<String, Long> counts, double per) {
    new TreeMap<>(counts)
        .forEach(
            (kind, n) ->
                out.printf(
                    per == 1 ? "%s%-40s %8d%n" : "%s%-40s %8.2f%n",
                    indent,
                    kind,
                    per == 1 ? (Object) n : (Object) (n / per)));
  }

  private static long total(Map<String, Long> counts) {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  private static double reconciles(SimpleMeterRegistry registry) {
    return registry.find("operator.sdk.reconciliations.started").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  /** CPU time of this process so far: less sensitive to a loaded machine than elapsed time. */
  private static double cpuSeconds() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() / 1e9
        : Double.NaN;
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static long mib(long bytes) {
    return bytes / (1024 * 1024);
  }

  private static long usedHeap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void collectGarbage() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Counts the operator's requests by kind, as its HTTP client sends them. */
  static final class ApiRequestCounter implements Interceptor {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
      counts
          .computeIfAbsent(
              ApiRequestKind.of(request.method(), request.uri()), k -> new AtomicLong())
          .incrementAndGet();
    }

    Map<String, Long> snapshot() {
      Map<String, Long> copy = new TreeMap<>();
      counts.forEach((k, v) -> copy.put(k, v.get()));
      return copy;
    }

    static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
      Map<String, Long> delta = new TreeMap<>();
      after.forEach(
          (k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
              delta.put(k, d);
            }
          });
      return delta;
    }
  }

  /** Every rank 0 at once: {@code GET /progress} with a step that grows with time. */
  record FakeTrainer(HttpServer server, long startNanos) implements AutoCloseable {
    static FakeTrainer start() throws IOException {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      long start = System.nanoTime();
      server.createContext(
          "/progress",
          exchange -> {
            long step = (System.nanoTime() - start) / 100_000_000L;
            byte[] body =
                ("{\"step\":"
                        + step
                        + ",\"totalSteps\":100000,\"loss\":1.5,\"lossScale\":65536.0,"
                        + "\"skippedSteps\":0,\"samplesPerSecond\":1000.0}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream o = exchange.getResponseBody()) {
              o.write(body);
            }
          });
      server.setExecutor(Executors.newFixedThreadPool(2));
      server.start();
      return new FakeTrainer(server, start);
    }

    int port() {
      return server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
