package dev.mpj.trainer.distributed;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerContract;
import dev.mpj.trainer.collective.CollectiveException;
import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.loop.RunSummary;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.output.MetricsWriter;
import dev.mpj.trainer.output.SummaryWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * One replica process for the equivalence test: does what {@code mpj-trainer train -f} does (join
 * from the environment, start from rank 0's state, train, check agreement), for several job files
 * in turn over one replica group, and then also writes the final {@link ReplicaState} (master
 * weights and all) to {@code OUT/JOB/rank-R/state.bin}, which the command line has no reason to
 * write.
 *
 * <pre>OUT_DIR MICRO_BATCH JOB_FILE...</pre>
 */
final class ReplicaTrainingWorker {

  private ReplicaTrainingWorker() {}

  public static void main(String[] args) {
    System.exit(run(System.getenv(), args));
  }

  static int run(Map<String, String> env, String[] args) {
    Path out = Path.of(args[0]);
    Integer microBatch = Integer.valueOf(args[1]);
    RendezvousConfig rendezvous = RendezvousConfig.fromEnv(env);
    ReplicaGroup group = null;
    try {
      for (int i = 2; i < args.length; i++) {
        MixedPrecisionJob job = JobFiles.read(Path.of(args[i]));
        RunConfig config =
            RunConfig.standalone(job, microBatch, rendezvous.rank(), rendezvous.worldSize());
        Dataset all = DataSource.load(config.spec());
        DataSplit split = DataSplit.of(all, config.spec().data.validationFraction, config.seed());
        Path dir =
            Files.createDirectories(out.resolve(config.jobName()).resolve("rank-" + config.rank()));
        try (TrainingSession session = new TrainingSession(config, split);
            MetricsWriter metrics = new MetricsWriter(dir)) {
          session.addListener(metrics);
          if (group == null) {
            group = ReplicaStartup.join(config, env);
          }
          ReplicaStartup.synchronize(group, session, config, System.err);
          RunSummary summary = session.run();
          SummaryWriter.write(dir, summary);
          if (!ReplicaStartup.checkAgreement(group, session, config, System.err)) {
            return 1;
          }
          Files.write(dir.resolve("state.bin"), ReplicaState.of(session, config).toBytes());
        }
      }
      return 0;
    } catch (CollectiveException e) {
      System.err.println("worker: " + e.getMessage());
      return TrainerContract.EXIT_REPLICAS_FAILED;
    } catch (IOException e) {
      System.err.println("worker: " + e.getMessage());
      return 1;
    } finally {
      if (group != null) {
        group.close();
      }
    }
  }
}
