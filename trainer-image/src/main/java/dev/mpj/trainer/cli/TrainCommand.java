package dev.mpj.trainer.cli;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.checkpoint.CheckpointListener;
import dev.mpj.trainer.checkpoint.CheckpointWriter;
import dev.mpj.trainer.checkpoint.ModelConfigHash;
import dev.mpj.trainer.checkpoint.PreemptedException;
import dev.mpj.trainer.checkpoint.PreemptionHandler;
import dev.mpj.trainer.checkpoint.Resume;
import dev.mpj.trainer.collective.CollectiveException;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.config.MatrixLibrary;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.distributed.ReplicaStartup;
import dev.mpj.trainer.health.TrainingHealth;
import dev.mpj.trainer.loop.ParityFailure;
import dev.mpj.trainer.loop.ProgressListener;
import dev.mpj.trainer.loop.RunSummary;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.metrics.FailureReasons;
import dev.mpj.trainer.metrics.JobLabels;
import dev.mpj.trainer.metrics.MetricsServer;
import dev.mpj.trainer.metrics.TerminationMessage;
import dev.mpj.trainer.metrics.TrainerMetrics;
import dev.mpj.trainer.model.ModelFactory;
import dev.mpj.trainer.output.MetricsWriter;
import dev.mpj.trainer.output.ReportData;
import dev.mpj.trainer.output.SummaryWriter;
import dev.mpj.trainer.parity.ReferenceParityListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj-trainer train}: everything about the job is validated (spec, data files, columns,
 * model against data) before the output folder is touched; bad input exits 2 with the field named
 * and nothing written.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Train one job: standalone with -f JOB.yaml, or in a pod with --config FILE.")
final class TrainCommand implements Callable<Integer> {
  static final class Source {
    @Option(
        names = "-f",
        description =
            "A MixedPrecisionJob manifest; trains standalone as rank 0 of 1, or as "
                + "rank MPJ_RANK of MPJ_WORLD_SIZE replicas when those are set.")
    Path jobFile;

    @Option(
        names = "--config",
        description =
            "The TrainerConfig the operator rendered (spec, replicas, micro-batch, accumulation).")
    Path configFile;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(
      names = "--output",
      required = true,
      description =
          "Folder for metrics.jsonl, summary.json and (unless MPJ_CHECKPOINT_DIR is set) checkpoints/; run again on it to resume.")
  Path output;

  @Option(
      names = "--metrics-port",
      description =
          "Serve /metrics (Prometheus) and /progress on this port while training. Default: $MPJ_METRICS_PORT, else none.")
  Integer metricsPort;

  @Option(
      names = "--micro-batch",
      description =
          "With -f: samples per micro-batch; the rest of the global batch is accumulated.")
  Integer microBatch;

  @Option(
      names = "--termination-grace-seconds",
      description =
          "After SIGTERM: finish the step, write a checkpoint and exit (code 143) within this many seconds."
              + " Default: $MPJ_TERMINATION_GRACE_SECONDS, else 25.")
  Integer terminationGraceSeconds;

  @Option(
      names = "--termination-message-path",
      description =
          "Rank 0 writes its final progress (the JSON of /progress) here when the run ends, and any"
              + " replica that fails writes why. Default:"
              + " $MPJ_TERMINATION_MESSAGE_PATH, else /dev/termination-log when it exists and is writable, else none.")
  Path terminationMessagePath;

  @Option(
      names = "--resume-mixed-as-fp32",
      description =
          "With -f and an fp32 job: resume from the newest checkpoint of the same model trained in"
              + " fp16-mixed (the FP32 fallback): its FP32 master weights and optimizer state go on"
              + " in FP32. --config: the config's resumeMixedAsFp32.")
  boolean resumeMixedAsFp32;

  /** Set once the training loop starts: from then on every exit leaves a final report. */
  private boolean trainingStarted;

  /** Rank 0's figures, once training is being set up; null before. */
  private TrainerMetrics observed;

  private int rank;

  /** The config's reference parity for this attempt (--config only); null: none. */
  private TrainerConfig.ReferenceParity referenceParity;

  /** Why the run failed, in one line, for the termination message; null while it has not. */
  private String failureReason;

  /**
   * The job's namespace, for the metrics' labels: the manifest's or the rendered config's, as
   * resolve() read it.
   */
  private String namespace;

  @Override
  public Integer call() {
    try {
      return run();
    } finally {
      writeTerminationMessage();
    }
  }

  private int run() {
    KubeletWatch.stopWhenGone(
        System.getenv(),
        () -> {
          System.err.println("mpj-trainer: mpj local's kubelet is gone: stopping");
          // halt, not exit: nothing is left to report to, and a checkpoint being written is
          // published atomically or not at all.
          Runtime.getRuntime().halt(137);
        });
    try {
      RunConfig config = resolve();
      rank = config.rank();
      if (resumeMixedAsFp32 && config.precision() != Precision.FP32) {
        throw new InvalidJobException(
            "--resume-mixed-as-fp32",
            "is the FP32 fallback: the job's spec.precision must be fp32, not "
                + config.precision().value());
      }
      metricsPort = MetricsServer.port(metricsPort, System.getenv());
      Dataset all = DataSource.load(config.spec());
      System.err.println("mpj-trainer: data: " + DataSource.describe(config.spec().data, all));
      System.err.println(
          "mpj-trainer: matrix library: " + MatrixLibrary.ofThisProcess().describe());
      ModelFactory.check(config.spec().model, all);
      DataSplit split = DataSplit.of(all, config.spec().data.validationFraction, config.seed());
      Duration grace = terminationGrace();
      prepareOutput();
      useCpuRequest(config);
      return train(config, split, grace);
    } catch (InvalidJobException e) {
      failureReason = "invalid job: " + e.getMessage();
      System.err.println("mpj-trainer: " + failureReason);
      return TrainerContract.EXIT_BAD_CONFIG;
    } catch (RuntimeException | Error e) {
      // Nobody planned for it: its one-line summary reaches the job's status, the trace the log.
      failureReason = FailureReasons.unexpected(e);
      System.err.println("mpj-trainer: " + failureReason);
      e.printStackTrace();
      return 1;
    }
  }

  private int train(RunConfig config, DataSplit split, Duration grace) {
    observed =
        new TrainerMetrics(
            JobLabels.of(config, namespace, System.getenv()),
            config,
            config.steps(split.train().samples()));
    try {
      return train(config, split, grace, observed);
    } finally {
      // In a pod, the output folder goes with the pod: rank 0 keeps mpj report's data beside
      // the checkpoints, however the attempt ended.
      String mounted = System.getenv(TrainerContract.ENV_CHECKPOINT_DIR);
      if (config.rank() == 0 && mounted != null && !mounted.isBlank()) {
        ReportData.publish(output, checkpointFolder())
            .ifPresent(problem -> System.err.println("mpj-trainer: " + problem));
      }
    }
  }

  /**
   * After the checkpoints are written and the resources closed, so the figures are the final ones:
   * the kubelet puts them into the pod's status, where the operator reads them. Rank 0 leaves its
   * progress once training started; any replica that failed leaves why.
   */
  private void writeTerminationMessage() {
    Map<String, Object> progress =
        trainingStarted && rank == 0 && observed != null ? observed.progress() : Map.of();
    if (progress.isEmpty() && failureReason == null) {
      return;
    }
    TerminationMessage.target(
            terminationMessagePath,
            System.getenv(),
            Path.of(TrainerContract.TERMINATION_MESSAGE_PATH))
        .flatMap(file -> TerminationMessage.write(file, progress, failureReason))
        .ifPresent(problem -> System.err.println("mpj-trainer: " + problem));
  }

  private int train(RunConfig config, DataSplit split, Duration grace, TrainerMetrics observed) {
    try (PreemptionHandler preemption = PreemptionHandler.install(grace);
        TrainingSession session = new TrainingSession(config, split)) {
      // Start-up order: (1) build the session; (2) rank 0 restores the newest whole checkpoint;
      // (3) rank 0 sends the state to the other replicas, who then know the resumed step too;
      // (4) train. Only rank 0 writes checkpoints.
      boolean checkpointing = config.rank() == 0;
      String modelConfigSha256 = ModelConfigHash.of(config, session.trainData());
      String mixedModelConfigSha256 =
          resumeMixedAsFp32
              ? ModelConfigHash.of(config, session.trainData(), Precision.FP16_MIXED)
              : null;
      Resume resume =
          checkpointing
              ? resume(session, modelConfigSha256, mixedModelConfigSha256)
              : Resume.fresh();
      try (ReplicaGroup replicas = ReplicaStartup.join(config, System.getenv())) {
        ReplicaStartup.synchronize(replicas, session, config, System.err);
        try (MetricsWriter metrics = MetricsWriter.continuing(output, session.resumedFromStep());
            CheckpointWriter writer =
                checkpointing
                    ? new CheckpointWriter(checkpointFolder(), config.spec().checkpoint.keep)
                    : null;
            MetricsServer server =
                metricsPort == null
                    ? null
                    : MetricsServer.start(
                        metricsPort, observed, System.getenv(TrainerContract.ENV_JOB_TOKEN))) {
          CheckpointListener checkpoints = null;
          if (writer != null) {
            checkpoints =
                new CheckpointListener(
                    session, writer, config.spec().checkpoint, modelConfigSha256, preemption);
            session.addListener(checkpoints);
            metrics.addSection(checkpoints::metricsFor);
            checkpoints.onPublished(
                w ->
                    observed.checkpointPublished(
                        w.step(),
                        Instant.now(),
                        writer.folder().resolve(CheckpointWriter.folderName(w.step())).toString(),
                        w.bytes(),
                        w.writeSeconds()));
            checkpoints.onFailed(f -> observed.checkpointFailedForSpace(f.step()));
          }
          // observed first: it judges the step's health, which the step's metrics.jsonl line
          // reports.
          session.addListener(observed);
          session.addListener(metrics);
          metrics.addSection(step -> healthSection(observed.health()));
          if (stopsWhenUnhealthy(config)) {
            session.addListener(new UnhealthyStop(session, observed));
          }
          if (referenceParity != null && config.rank() == 0) {
            session.addListener(
                new ReferenceParityListener(
                    session,
                    referenceParity,
                    config.spec().parity == null ? null : config.spec().parity.reference,
                    config.precision().value(),
                    output,
                    observed::referenceParity,
                    System.err));
          }
          session.addListener(new ProgressListener(System.err, session.totalSteps()));
          if (session.resumedFromStep() != null) {
            observed.resumedFrom(session.step(), session.skippedSteps());
          }
          System.err.printf(
              "mpj-trainer: %s, %s, %d parameters, %d steps, micro-batch %d x %d accumulation, rank %d of %d%n",
              config.jobName(),
              config.precision(),
              session.parameters(),
              session.totalSteps(),
              config.microBatch(),
              config.accumulation(),
              config.rank(),
              config.replicas());
          RunSummary summary;
          trainingStarted = true;
          try {
            summary = session.run();
          } catch (ParityFailure e) {
            failureReason = e.getMessage();
            System.err.println("mpj-trainer: " + e.getMessage());
            return TrainerContract.EXIT_PARITY_FAILURE;
          } catch (UnhealthyStop.Unhealthy e) {
            failureReason = e.getMessage();
            System.err.printf(
                "mpj-trainer: %s; exit %d%n", e.getMessage(), TrainerContract.EXIT_UNHEALTHY);
            return TrainerContract.EXIT_UNHEALTHY;
          } catch (ReferenceParityListener.Exceeded e) {
            failureReason = e.getMessage();
            System.err.printf(
                "mpj-trainer: %s; exit %d%n",
                e.getMessage(), TrainerContract.EXIT_REFERENCE_PARITY_EXCEEDED);
            return TrainerContract.EXIT_REFERENCE_PARITY_EXCEEDED;
          } catch (PreemptedException e) {
            failureReason = "stopped by SIGTERM: " + e.getMessage();
            System.err.printf(
                "mpj-trainer: %s (%.1f s after SIGTERM); exit %d%n",
                e.getMessage(), preemption.secondsSinceRequest(), TrainerContract.EXIT_PREEMPTED);
            return TrainerContract.EXIT_PREEMPTED;
          }
          ReplicaStartup.checkAgreement(replicas, session, config, System.err);
          Map<String, Object> sections = new LinkedHashMap<>();
          if (writer != null) {
            writer.await();
            sections.put("checkpoints", checkpoints.totals(resume));
          }
          sections.put("health", TrainerMetrics.health(observed.health()));
          SummaryWriter.write(output, summary, sections);
          return 0;
        }
      }
    } catch (CollectiveException e) {
      failureReason =
          String.format(
              "rank %d of %d: the replicas failed: %s",
              config.rank(), config.replicas(), e.getMessage());
      System.err.printf(
          "mpj-trainer: rank %d of %d: the replicas failed (retryable, exit %d): %s%n",
          config.rank(), config.replicas(), TrainerContract.EXIT_REPLICAS_FAILED, e.getMessage());
      return TrainerContract.EXIT_REPLICAS_FAILED;
    } catch (IOException | UncheckedIOException e) {
      failureReason = "cannot write to " + output + " or its checkpoints: " + e.getMessage();
      System.err.println("mpj-trainer: " + failureReason);
      return 1;
    }
  }

  /**
   * Rank 0 of an fp16-mixed job with spec.parity.onDivergence stops once the run is unhealthy: the
   * operator decides what comes next from its exit code, without waiting for a poll.
   */
  private static boolean stopsWhenUnhealthy(RunConfig config) {
    return config.rank() == 0
        && config.precision() == Precision.FP16_MIXED
        && config.spec().parity != null
        && config.spec().parity.onDivergence != null;
  }

  /** metrics.jsonl's health fields: {@code healthy}, and {@code healthReasons} when not. */
  private static Map<String, Object> healthSection(TrainingHealth.Assessment health) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("healthy", health.healthy());
    if (!health.healthy()) {
      fields.put("healthReasons", health.reasonNames());
    }
    return fields;
  }

  /**
   * Step (2) of start-up: the newest whole checkpoint into the session; a refused one exits 2 with
   * nothing changed.
   */
  private Resume resume(
      TrainingSession session, String modelConfigSha256, String mixedModelConfigSha256)
      throws IOException {
    return Resume.newest(
        checkpointFolder(),
        session,
        modelConfigSha256,
        mixedModelConfigSha256,
        message -> System.err.println("mpj-trainer: " + message));
  }

  /**
   * In a pod, the mounted checkpoint volume; standalone, checkpoints/ in the output folder. The
   * FP32 reference run of reference parity keeps its own below it, apart from the job's.
   */
  private Path checkpointFolder() {
    String mounted = System.getenv(TrainerContract.ENV_CHECKPOINT_DIR);
    Path folder =
        mounted != null && !mounted.isBlank() ? Path.of(mounted) : output.resolve("checkpoints");
    return referenceParity != null && Boolean.TRUE.equals(referenceParity.referenceRun)
        ? folder.resolve(TrainerContract.REFERENCE_CHECKPOINTS)
        : folder;
  }

  /**
   * --termination-grace-seconds, else MPJ_TERMINATION_GRACE_SECONDS, else 25 s (below the pod's 60
   * s).
   */
  private Duration terminationGrace() {
    String field = "--termination-grace-seconds";
    Integer seconds = terminationGraceSeconds;
    if (seconds == null) {
      field = TrainerContract.ENV_TERMINATION_GRACE_SECONDS;
      OptionalInt env = TrainerContract.intVariable(System.getenv(), field);
      if (env.isEmpty()) {
        return PreemptionHandler.DEFAULT_GRACE;
      }
      seconds = env.getAsInt();
    }
    if (seconds < 1) {
      throw new InvalidJobException(field, "must be at least 1 (got " + seconds + ")");
    }
    return Duration.ofSeconds(seconds);
  }

  /**
   * libtorch's threads follow the replica's CPU request (spec.resources.cpu) unless set explicitly:
   * more threads than CPUs only spin against each other.
   */
  private static void useCpuRequest(RunConfig config) {
    String property = "ai.djl.pytorch.num_threads";
    if (System.getProperty(property) != null || config.spec().resources == null) {
      return;
    }
    config
        .spec()
        .resources
        .cpuCores()
        .ifPresent(
            cpus -> {
              int threads = (int) Math.max(1, Math.ceil(cpus));
              System.setProperty(property, Integer.toString(threads));
              System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            });
  }

  private RunConfig resolve() {
    if (source.jobFile != null) {
      MixedPrecisionJob job = JobFiles.read(source.jobFile);
      namespace = job.getMetadata().getNamespace();
      // With the rendezvous environment set, -f joins a multi-replica run as the config would.
      return RunConfig.standalone(
          job, microBatch, rankFromEnvironment(), worldSizeFromEnvironment());
    }
    if (microBatch != null) {
      throw new InvalidJobException(
          "--micro-batch", "applies to -f only; --config carries its own microBatch");
    }
    TrainerConfig config = JobFiles.read(source.configFile, TrainerConfig.class, "--config");
    namespace = config.namespace;
    resumeMixedAsFp32 |= Boolean.TRUE.equals(config.resumeMixedAsFp32);
    referenceParity = config.referenceParity;
    return RunConfig.fromTrainerConfig(config, rankFromEnvironment());
  }

  private static int rankFromEnvironment() {
    return TrainerContract.intVariable(System.getenv(), TrainerContract.ENV_RANK).orElse(0);
  }

  private static int worldSizeFromEnvironment() {
    return TrainerContract.intVariable(System.getenv(), TrainerContract.ENV_WORLD_SIZE).orElse(1);
  }

  private void prepareOutput() {
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new InvalidJobException("--output", output + " exists and is not a folder");
    }
    try {
      Files.createDirectories(output);
    } catch (IOException e) {
      throw new InvalidJobException("--output", "cannot create " + output + ": " + e.getMessage());
    }
  }
}
