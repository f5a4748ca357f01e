package dev.mpj.trainer.cli;

import dev.mpj.api.JobFiles;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.collective.CollectiveException;
import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.distributed.ReplicaStartup;
import dev.mpj.trainer.loop.ParityFailure;
import dev.mpj.trainer.loop.ProgressListener;
import dev.mpj.trainer.loop.RunSummary;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.model.ModelFactory;
import dev.mpj.trainer.output.MetricsWriter;
import dev.mpj.trainer.output.SummaryWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj-trainer train}: everything about the job is validated (spec, data files, columns, model
 * against data) before the output folder is touched; bad input exits 2 with the field named and
 * nothing written.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train one job: standalone with -f JOB.yaml, or in a pod with --config FILE.")
final class TrainCommand implements Callable<Integer> {
  static final int EXIT_PARITY = 3;

  static final class Source {
    @Option(names = "-f", description = "A MixedPrecisionJob manifest; trains standalone as rank 0 of 1, or as "
        + "rank MPJ_RANK of MPJ_WORLD_SIZE replicas when those are set.")
    Path jobFile;

    @Option(names = "--config", description = "The TrainerConfig the operator rendered (spec, replicas, micro-batch, accumulation).")
    Path configFile;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(names = "--output", required = true, description = "Folder for metrics.jsonl and summary.json.")
  Path output;

  @Option(names = "--metrics-port", description = "Serve Prometheus metrics on this port while training.")
  Integer metricsPort;

  @Option(names = "--micro-batch", description = "With -f: samples per micro-batch; the rest of the global batch is accumulated.")
  Integer microBatch;

  @Override
  public Integer call() {
    try {
      RunConfig config = resolve();
      Dataset all = DataSource.load(config.spec());
      ModelFactory.check(config.spec().model, all);
      DataSplit split = DataSplit.of(all, config.spec().data.validationFraction, config.seed());
      prepareOutput();
      useCpuRequest(config);
      return train(config, split);
    } catch (InvalidJobException e) {
      System.err.println("mpj-trainer: invalid job: " + e.getMessage());
      return TrainerCommand.EXIT_BAD_INPUT;
    }
  }

  private int train(RunConfig config, DataSplit split) {
    try (TrainingSession session = new TrainingSession(config, split);
        MetricsWriter metrics = new MetricsWriter(output);
        MetricsServer server = metricsPort == null ? null : MetricsServer.start(metricsPort, config.jobName())) {
      session.addListener(metrics);
      session.addListener(new ProgressListener(System.err, session.totalSteps()));
      if (server != null) {
        session.addListener(server);
      }
      System.err.printf("mpj-trainer: %s, %s, %d parameters, %d steps, micro-batch %d x %d accumulation, rank %d of %d%n",
          config.jobName(), config.precision(), session.parameters(), session.totalSteps(),
          config.microBatch(), config.accumulation(), config.rank(), config.replicas());
      RunSummary summary;
      try {
        summary = runReplicated(config, session);
      } catch (ParityFailure e) {
        System.err.println("mpj-trainer: " + e.getMessage());
        return EXIT_PARITY;
      } catch (CollectiveException e) {
        System.err.printf("mpj-trainer: rank %d of %d: the replicas failed (retryable, exit %d): %s%n",
            config.rank(), config.replicas(), CollectiveException.EXIT_CODE, e.getMessage());
        return CollectiveException.EXIT_CODE;
      }
      SummaryWriter.write(output, summary);
      return 0;
    } catch (IOException e) {
      System.err.println("mpj-trainer: cannot write to " + output + ": " + e.getMessage());
      return 1;
    }
  }

  /**
   * Joins the other replicas (none with one replica: no socket is opened), starts every replica from
   * rank 0's state, trains with the gradients summed across replicas, and checks at the end that all
   * still agree. Rank 0 must have restored its checkpoint, if any, before this.
   */
  private static RunSummary runReplicated(RunConfig config, TrainingSession session) {
    try (ReplicaGroup group = ReplicaStartup.join(config, System.getenv())) {
      ReplicaStartup.synchronize(group, session, config, System.err);
      RunSummary summary = session.run();
      ReplicaStartup.checkAgreement(group, session, config, System.err);
      return summary;
    }
  }

  /**
   * libtorch's threads follow the replica's CPU request (spec.resources.cpu) unless set explicitly:
   * more threads than CPUs only spin against each other.
   */
  private static void useCpuRequest(RunConfig config) {
    String property = "ai.djl.pytorch.num_threads";
    if (System.getProperty(property) != null || config.spec().resources == null || config.spec().resources.cpu == null) {
      return;
    }
    double cpus = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(config.spec().resources.cpu).doubleValue();
    int threads = (int) Math.max(1, Math.ceil(cpus));
    System.setProperty(property, Integer.toString(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
  }

  private RunConfig resolve() {
    if (source.jobFile != null) {
      // With the rendezvous environment set, -f joins a multi-replica run as the config would.
      return RunConfig.standalone(JobFiles.read(source.jobFile), microBatch, rankFromEnvironment(), replicasFromEnvironment());
    }
    if (microBatch != null) {
      throw new InvalidJobException("--micro-batch", "applies to -f only; --config carries its own microBatch");
    }
    TrainerConfig config;
    try {
      config = JobFiles.yamlMapper().readValue(source.configFile.toFile(), TrainerConfig.class);
    } catch (IOException e) {
      throw new InvalidJobException("--config", "cannot read " + source.configFile + ": " + e.getMessage());
    }
    return RunConfig.fromTrainerConfig(config, rankFromEnvironment());
  }

  private static int rankFromEnvironment() {
    return intFromEnvironment(RendezvousConfig.RANK, 0);
  }

  private static int replicasFromEnvironment() {
    return intFromEnvironment(RendezvousConfig.WORLD_SIZE, 1);
  }

  private static int intFromEnvironment(String name, int fallback) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new InvalidJobException(name, "is not a number: " + value);
    }
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
