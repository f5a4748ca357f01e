package dev.mpj.cli;

import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.local.EvictionInjection;
import dev.mpj.local.FailureInjection;
import dev.mpj.local.LocalRun;
import dev.mpj.local.OperatorLauncher;
import dev.mpj.local.OperatorProcess;
import dev.mpj.operator.MpjOperator;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mpj local}: the whole system on this machine. */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    description = {
      "Run a job on this machine: an in-process Kubernetes API server with a node for this machine,",
      "the operator, and one trainer process per replica. Exits 0 when the job Succeeded, 1 when it",
      "Failed, 2 on bad input. With --serve the cluster keeps running for kubectl until interrupted",
      "(Ctrl-C); it writes a kubeconfig and prints the export KUBECONFIG=... line."
    })
public final class LocalCommand implements Callable<Integer> {

  @Option(
      names = {"-f", "--filename"},
      description = "The MixedPrecisionJob manifest (required unless --serve).")
  Path file;

  @Option(
      names = "--serve",
      description =
          "Keep the cluster running until interrupted, for kubectl (with or without -f JOB).")
  boolean serve;

  @Option(
      names = "--kubeconfig",
      defaultValue = ".mpj-local/kubeconfig",
      description =
          "Where --serve writes the kubeconfig of context mpj-local (default ${DEFAULT-VALUE}).")
  Path kubeconfig;

  @Option(
      names = "--work-dir",
      description =
          "Where replicas' outputs, checkpoints and job.yaml go (default .mpj-local/<job>).")
  Path workDir;

  @Option(
      names = "--fail",
      paramLabel = "RANK@STEP",
      description = "Kill that replica's first attempt (SIGKILL) at that step, to show recovery.")
  String fail;

  @Option(
      names = "--evict-at",
      paramLabel = "STEP[:REPLICAS]",
      description =
          "Queue the job in a local Kueue that admits it, evicts it at that step as preemption"
              + " does, keeps it queued for a few seconds and admits it again with REPLICAS"
              + " (default: the fewest its Workload accepts); it resumes from its checkpoint.")
  String evictAt;

  @Option(
      names = "--operator-process",
      description =
          "Run the operator in a process of its own against the in-process API server, started"
              + " again whenever it ends, as a Deployment's pod is (its pid in WORK_DIR/operator/pid,"
              + " its output in WORK_DIR/operator/log.txt); without it the operator runs in this"
              + " JVM.")
  boolean operatorProcess;

  @Option(
      names = "--gpus",
      defaultValue = "4",
      description = "GPUs the local node offers (default ${DEFAULT-VALUE}).")
  int gpus;

  @Option(
      names = "--gpu-memory",
      defaultValue = "16Gi",
      description = "Memory of each GPU of the local node (default ${DEFAULT-VALUE}).")
  String gpuMemory;

  @Option(
      names = "--timeout",
      defaultValue = "PT30M",
      description = "Give up after this long, ISO-8601 (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--trainer",
      hidden = true,
      description = "The mpj-trainer launcher (default: bin/mpj-trainer next to bin/mpj).")
  Path trainer;

  /**
   * The same operator as {@code mpj operator} (server-side apply included: the embedded API server
   * applies the operator's status patches), reading progress more often so the display keeps up.
   */
  private static final OperatorLauncher OPERATOR =
      client -> MpjOperator.start(client, operatorSettings());

  /** The embedded API server; not in the operator image (operator/pom.xml, provided scope). */
  static final String EMBEDDED_SERVER_CLASS =
      "io.fabric8.kubernetes.client.server.mock.KubernetesMockServer";

  static OperatorSettings operatorSettings() {
    return OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1));
  }

  /**
   * {@code --operator-process}: {@link LocalOperatorMain} in a JVM of its own, against the API
   * server's address, supervised by {@link OperatorProcess} under {@code <work dir>/operator}.
   */
  private static OperatorLauncher operatorProcess(Path workDir) {
    Path dir = workDir.toAbsolutePath().normalize().resolve("operator");
    return client ->
        OperatorProcess.start(
            OperatorProcess.javaCommand(
                LocalOperatorMain.class.getName(), client.getMasterUrl().toString()),
            dir,
            line -> {
              System.out.println("mpj local: " + line);
              System.out.flush();
            });
  }

  @Override
  public Integer call() throws Exception {
    quietLogs();
    try {
      Class.forName(EMBEDDED_SERVER_CLASS, false, LocalCommand.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      System.err.println(
          "mpj local: the embedded API server is not on this class path (the operator image leaves"
              + " it out); run mpj local from a checkout: bin/mpj local");
      return 2;
    }
    if (file == null && !serve) {
      throw new InvalidJobException("-f", "give the job's manifest with -f JOB, or --serve");
    }
    MixedPrecisionJob job = file == null ? null : JobFiles.read(file);
    FailureInjection failure = null;
    if (fail != null) {
      try {
        failure = FailureInjection.parse(fail);
      } catch (IllegalArgumentException e) {
        throw new InvalidJobException("--fail", e.getMessage());
      }
    }
    EvictionInjection eviction = null;
    if (evictAt != null) {
      try {
        eviction = EvictionInjection.parse(evictAt);
      } catch (IllegalArgumentException e) {
        throw new InvalidJobException("--evict-at", e.getMessage());
      }
    }
    Quantity memory;
    try {
      memory = new Quantity(gpuMemory);
      if (Quantity.getAmountInBytes(memory).signum() <= 0) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidJobException(
          "--gpu-memory",
          "must be a positive Kubernetes quantity such as 16Gi (got " + gpuMemory + ")");
    }
    if (gpus < 0) {
      throw new InvalidJobException("--gpus", "must be zero or more (got " + gpus + ")");
    }
    Path launcher = trainer != null ? trainer : defaultTrainerLauncher();
    if (!Files.isExecutable(launcher)) {
      throw new InvalidJobException(
          "--trainer", "no executable mpj-trainer launcher at " + launcher);
    }
    Path dir =
        workDir != null
            ? workDir
            : Path.of(".mpj-local", job == null ? "serve" : job.getMetadata().getName());

    LocalRun run = new LocalRun(job, dir, System.out).evictAt(eviction);
    Thread stopOnInterrupt =
        new Thread(
            () -> {
              System.out.println("\nmpj local: interrupted; stopping the trainers gracefully");
              run.close();
            },
            "mpj-local-shutdown");
    Runtime.getRuntime().addShutdownHook(stopOnInterrupt);
    try {
      try {
        run.start(
            operatorProcess ? operatorProcess(dir) : OPERATOR, launcher, gpus, memory, failure);
      } catch (IllegalArgumentException e) {
        throw new InvalidJobException("--work-dir", e.getMessage());
      }
      if (serve) {
        Path written = run.writeKubeconfig(kubeconfig);
        System.out.println("mpj local: kubeconfig " + written + " (context mpj-local); run:");
        System.out.println("export KUBECONFIG=" + written);
        System.out.flush();
      }
      Optional<MixedPrecisionJob> finished = job == null ? Optional.empty() : run.follow(timeout);
      if (serve) {
        System.out.println("mpj local: serving until interrupted (Ctrl-C)");
        System.out.flush();
        new java.util.concurrent.CountDownLatch(1).await();
      }
      return finished.map(j -> j.getStatus().phase == JobPhase.Succeeded ? 0 : 1).orElse(1);
    } finally {
      run.close();
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnInterrupt);
      } catch (IllegalStateException shuttingDown) {
        // Already shutting down: the hook is running.
      }
    }
  }

  /**
   * Keeps the terminal for progress: the operator and the API server log warnings only; their
   * decisions show as the job's Events. Must run before anything logs (slf4j-simple reads it once).
   */
  public static void quietLogs() {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    // v1alpha1 is this CRD's version on purpose; the client's warning about it tells a local user
    // nothing.
    System.setProperty(
        "org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils",
        "error");
    // The CRD's x-kubernetes-* keywords are the API server's, not JSON Schema's.
    System.setProperty("org.slf4j.simpleLogger.log.com.networknt", "error");
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
  }

  /** Held so that the level set on it is not lost to garbage collection. */
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  /** bin/mpj-trainer under MPJ_HOME (set by bin/mpj), else under the working directory. */
  public static Path defaultTrainerLauncher() {
    String home = System.getenv("MPJ_HOME");
    return Path.of(home != null ? home : ".").resolve("bin").resolve("mpj-trainer");
  }
}
