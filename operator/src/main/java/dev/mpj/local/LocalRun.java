package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.SizingStatus;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One {@code mpj local} run: the in-process cluster, the real operator, the local kubelet, the job
 * applied, followed until it finishes, and what is left in the work dir for a person to read.
 */
public final class LocalRun implements AutoCloseable {

  /** Marks a folder as an mpj local work dir, so that a rerun may clear it and nothing else. */
  static final String MARKER = ".mpj-local-work-dir";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final MixedPrecisionJob job;
  private final Path workDir;
  private final PrintStream out;
  private LocalCluster cluster;
  private AutoCloseable operator;
  private LocalKubelet kubelet;
  private EvictionInjection eviction;
  private LocalKueue kueue;

  /**
   * A run of this job; {@code job} may be null for a cluster that only serves ({@code --serve}).
   */
  public LocalRun(MixedPrecisionJob job, Path workDir, PrintStream out) {
    this.job = job;
    this.workDir = workDir.toAbsolutePath().normalize();
    this.out = out;
  }

  /** Runs the job to its end; returns the finished job, or empty when it did not finish in time. */
  public Optional<MixedPrecisionJob> run(
      OperatorLauncher launcher,
      Path trainerLauncher,
      int gpus,
      Quantity gpuMemory,
      FailureInjection failure,
      Duration timeout)
      throws Exception {
    start(launcher, trainerLauncher, gpus, gpuMemory, failure);
    return follow(timeout);
  }

  /**
   * {@code --evict-at}: before {@link #start}, puts the job in a queue of {@link LocalKueue}, which
   * evicts it at the step and admits it again with fewer replicas.
   */
  public LocalRun evictAt(EvictionInjection eviction) {
    this.eviction = eviction;
    return this;
  }

  /**
   * Starts the cluster: a fresh work dir, the in-process API server, the local kubelet and the
   * operator. Nothing is applied yet.
   */
  public void start(
      OperatorLauncher launcher,
      Path trainerLauncher,
      int gpus,
      Quantity gpuMemory,
      FailureInjection failure)
      throws Exception {
    prepareWorkDir();
    cluster = LocalCluster.start(gpus, gpuMemory, workDir.resolve("pods"));
    KubernetesClient client = cluster.client();
    out.printf(
        Locale.ROOT,
        "mpj local: in-process API server %s; node %s with %d GPU(s) of %s (simulated on CPU)%n",
        cluster.url(),
        LocalCluster.NODE_NAME,
        gpus,
        gpuMemory);
    out.printf("mpj local: work dir %s%n", workDir);
    kubelet =
        new LocalKubelet(
            client, workDir, trainerLauncher, failure, line -> out.println("mpj local: " + line));
    kubelet.start();
    if (eviction != null) {
      // Before the operator: it looks for Kueue's Workloads at start-up.
      LocalKueue.install(client);
      kueue = new LocalKueue(client, workDir, eviction, line -> out.println("mpj local: " + line));
      kueue.start();
    }
    operator = launcher.start(client);
  }

  /**
   * Writes a kubeconfig whose context {@code mpj-local} (the current one) points kubectl at this
   * cluster, replacing the file; returns its absolute path.
   */
  public Path writeKubeconfig(Path file) throws IOException {
    Path target = file.toAbsolutePath().normalize();
    Files.createDirectories(target.getParent());
    Path partial = target.resolveSibling(target.getFileName() + ".partial");
    Files.writeString(partial, Kubeconfig.of(cluster.url()));
    Files.move(
        partial,
        target,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  /** Applies the job and follows it to its end (see {@link #run}). */
  public Optional<MixedPrecisionJob> follow(Duration timeout) throws Exception {
    KubernetesClient client = cluster.client();
    String namespace =
        job.getMetadata().getNamespace() != null ? job.getMetadata().getNamespace() : "default";
    job.getMetadata().setNamespace(namespace);
    if (eviction != null) {
      Map<String, String> labels = new LinkedHashMap<>();
      if (job.getMetadata().getLabels() != null) {
        labels.putAll(job.getMetadata().getLabels());
      }
      labels.putIfAbsent(Labels.KUEUE_QUEUE_NAME, LocalKueue.QUEUE);
      job.getMetadata().setLabels(labels);
    }
    client.resources(MixedPrecisionJob.class).inNamespace(namespace).resource(job).create();
    out.printf(
        "mpj local: applied mixedprecisionjob/%s (%s, replicas %d..%d, %d steps)%n",
        job.getMetadata().getName(),
        job.getSpec().precision,
        job.getSpec().replicas.min,
        job.getSpec().replicas.max,
        job.getSpec().training.steps == null ? 0 : job.getSpec().training.steps);

    MixedPrecisionJob finished;
    try (JobWatch watch = new JobWatch(client, namespace, job.getMetadata().getName(), out)) {
      finished = watch.untilFinished(timeout);
    }
    MixedPrecisionJob last =
        finished != null
            ? finished
            : client
                .resources(MixedPrecisionJob.class)
                .inNamespace(namespace)
                .withName(job.getMetadata().getName())
                .get();
    if (last != null) {
      last.getMetadata().setManagedFields(null);
      Files.writeString(workDir.resolve("job.yaml"), JobFiles.toYaml(last));
    }
    if (finished == null) {
      out.printf("mpj local: the job did not finish within %s%n", timeout);
      return Optional.empty();
    }
    report(finished);
    return Optional.of(finished);
  }

  private void prepareWorkDir() throws IOException {
    if (Files.isDirectory(workDir)) {
      boolean empty;
      try (Stream<Path> entries = Files.list(workDir)) {
        empty = entries.findAny().isEmpty();
      }
      if (!empty && !Files.exists(workDir.resolve(MARKER))) {
        throw new IllegalArgumentException(
            "--work-dir "
                + workDir
                + " is not empty and was not made by mpj local; choose another folder");
      }
      deleteRecursively(workDir);
    }
    Files.createDirectories(workDir);
    Files.writeString(workDir.resolve(MARKER), "made by mpj local; a rerun clears this folder\n");
  }

  private void report(MixedPrecisionJob finished) {
    MixedPrecisionJobStatus s = finished.getStatus();
    out.println();
    out.printf(
        "%s: %s%s%n",
        finished.getMetadata().getName(), s.phase, s.message == null ? "" : " (" + s.message + ")");
    if (s.sizing != null && s.sizing.plan != null) {
      out.printf("  sizing     %s%n", plan(s.sizing.plan));
      if (s.sizing.fp32 != null && !"fp32".equals(s.sizing.plan.precision)) {
        out.printf(
            "  vs fp32    %s%s%n",
            plan(s.sizing.fp32),
            s.sizing.gpusSaved == null
                ? ""
                : "; GPUs saved by mixed precision: " + s.sizing.gpusSaved);
      }
    }
    // Rank 0's summary.json has the final figures (validation included); status.progress has its
    // final
    // report, without validation.
    rankZeroSummary(finished, s.attempt)
        .ifPresentOrElse(
            summary -> {
              out.printf(
                  Locale.ROOT,
                  "  training   %d steps, train loss %.4f, final loss scale %.0f, skipped steps %d%n",
                  summary.path("steps").asLong(),
                  summary.path("trainLoss").asDouble(),
                  summary.path("finalLossScale").asDouble(),
                  summary.path("skippedSteps").asLong());
              JsonNode v = summary.path("validation");
              out.printf(
                  Locale.ROOT,
                  "  validation loss %.4f%s%n",
                  v.path("loss").asDouble(),
                  v.has("accuracy")
                      ? String.format(
                          Locale.ROOT, ", accuracy %.1f%%", 100 * v.path("accuracy").asDouble())
                      : "");
              if (summary.hasNonNull("resumedFromStep")) {
                out.printf(
                    "  resumed    from the checkpoint of step %d%n",
                    summary.path("resumedFromStep").asLong());
              }
            },
            () -> {
              if (s.progress != null && s.progress.loss != null) {
                out.printf(
                    Locale.ROOT,
                    "  training   step %d (last reported), loss %.4f%n",
                    s.progress.step,
                    s.progress.loss);
              }
            });
    if (s.parity != null && s.parity.relativeGap != null) {
      out.printf(
          Locale.ROOT,
          "  parity     step %d: validation loss fp16 %.4f vs fp32 master %.4f, gap %.4f (%s)%n",
          s.parity.step,
          s.parity.fp16Loss,
          s.parity.fp32Loss,
          s.parity.relativeGap,
          Boolean.FALSE.equals(s.parity.withinBound)
              ? "above the working-weights maxRelativeGap"
              : "within the working-weights maxRelativeGap");
    }
    if (s.parity != null && s.parity.reference != null && s.parity.reference.message != null) {
      out.printf("  reference  %s%n", s.parity.reference.message);
    }
    if (s.parity != null && s.parity.reference != null && s.parity.reference.gang != null) {
      var gang = s.parity.reference.gang;
      out.printf(
          "  ref gang   FP32 reference gang beside the job's: %s, attempt %d, restarts %d%n",
          gang.phase, gang.attempt, gang.restarts);
    }
    out.printf("  restarts   %d%n", s.restarts);
    if (s.restartHistory != null) {
      for (var restart : s.restartHistory) {
        out.printf("             attempt %d: %s%n", restart.attempt, restart.message);
      }
    }
    out.printf("  work dir   %s%n", workDir);
    out.printf(
        "             job.yaml (the job with its final status), pods/ (each replica's output and log.txt),%n");
    out.printf("             volumes/ (the checkpoint volume)%n");
  }

  private static String plan(SizingStatus.PrecisionPlan p) {
    return String.format(
        Locale.ROOT,
        "%s: %s replica(s) x micro-batch %s x accumulation %s = %s GPU(s)%s",
        p.precision,
        p.replicas,
        p.microBatch,
        p.gradientAccumulation,
        p.gpus,
        p.bytesPerReplica == null
            ? ""
            : String.format(
                Locale.ROOT, ", %.2f GiB per replica", p.bytesPerReplica / 1073741824.0));
  }

  /** summary.json of rank 0 in the given attempt, wherever its output volume was mapped. */
  Optional<JsonNode> rankZeroSummary(MixedPrecisionJob finished, int attempt) {
    Path pod = workDir.resolve("pods").resolve(JobNames.pod(finished, 0) + "-attempt-" + attempt);
    if (!Files.isDirectory(pod)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.walk(pod)) {
      Optional<Path> summary =
          files.filter(p -> p.getFileName().toString().equals("summary.json")).findFirst();
      if (summary.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(JSON.readTree(summary.get().toFile()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Stops the trainers gracefully, then the operator, then the API server. Safe to call twice. */
  @Override
  public synchronized void close() {
    if (kueue != null) {
      kueue.close();
      kueue = null;
    }
    if (kubelet != null) {
      kubelet.close();
      kubelet = null;
    }
    if (operator != null) {
      try {
        operator.close();
      } catch (Exception e) {
        out.println("mpj local: stopping the operator: " + e.getMessage());
      }
      operator = null;
    }
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }
}
