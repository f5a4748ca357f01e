package dev.mpj.trainer.config;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.api.validation.Violation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything one replica needs to know to train: the job's spec, and how this replica's share of
 * each global batch is cut. Built from a job file (standalone) or from the operator's {@link
 * TrainerConfig}; either way it is validated completely before anything runs.
 *
 * <p>Sharding: replica {@code r} of {@code R} takes the rows {@code r, r+R, r+2R, ...} of each
 * global batch (strided, so shards differ by at most one row), and cuts its shard into {@code
 * accumulation} consecutive micro-batches of at most {@code microBatch} rows.
 */
public record RunConfig(
    String jobName,
    MixedPrecisionJobSpec spec,
    int rank,
    int replicas,
    int microBatch,
    int accumulation) {

  public Precision precision() {
    return spec.precision;
  }

  public int globalBatch() {
    return spec.training.globalBatchSize;
  }

  public long seed() {
    return spec.training.seed;
  }

  /** Optimizer steps of the whole run; {@code epochs} counts passes over the training split. */
  public long steps(int trainSamples) {
    if (spec.training.steps != null) {
      return spec.training.steps;
    }
    long perEpoch = (trainSamples + globalBatch() - 1) / globalBatch();
    return perEpoch * spec.training.epochs;
  }

  /** This replica's rows of a global batch (strided), cut into consecutive micro-batches. */
  public List<int[]> microBatches(int[] globalRows) {
    int[] shard = new int[(globalRows.length - rank + replicas - 1) / replicas];
    for (int i = 0; i < shard.length; i++) {
      shard[i] = globalRows[rank + i * replicas];
    }
    List<int[]> batches = new ArrayList<>();
    for (int start = 0; start < shard.length; start += microBatch) {
      batches.add(Arrays.copyOfRange(shard, start, Math.min(shard.length, start + microBatch)));
    }
    return batches;
  }

  /**
   * Rank 0 of 1; one micro-batch of the whole global batch unless {@code microBatch} says
   * otherwise.
   */
  public static RunConfig standalone(MixedPrecisionJob job, Integer microBatch) {
    return standalone(job, microBatch, 0, 1);
  }

  /**
   * Replica {@code rank} of {@code replicas} run from a job file: one micro-batch of its whole
   * shard of the global batch unless {@code microBatch} says otherwise.
   */
  public static RunConfig standalone(
      MixedPrecisionJob job, Integer microBatch, int rank, int replicas) {
    SpecValidator.requireValid(job);
    MixedPrecisionJobSpec spec = job.getSpec();
    if (microBatch != null && microBatch < 1) {
      throw new InvalidJobException("--micro-batch", "must be at least 1 (got " + microBatch + ")");
    }
    if (replicas < 1) {
      throw new InvalidJobException(
          TrainerContract.ENV_WORLD_SIZE, "must be at least 1 (got " + replicas + ")");
    }
    int shard = Math.max(1, (spec.training.globalBatchSize + replicas - 1) / replicas);
    int micro = microBatch == null ? shard : Math.min(microBatch, shard);
    int accumulation = (shard + micro - 1) / micro;
    return checked(
        new RunConfig(job.getMetadata().getName(), spec, rank, replicas, micro, accumulation));
  }

  /** The operator's rendered config, for replica {@code rank}. */
  public static RunConfig fromTrainerConfig(TrainerConfig config, int rank) {
    if (config.spec == null) {
      throw new InvalidJobException("spec", "is required");
    }
    List<Violation> violations = new ArrayList<>(SpecValidator.validate(config.spec));
    if (config.jobName != null) {
      dev.mpj.api.validation.KubernetesNames.dns1123Subdomain(config.jobName)
          .forEach(m -> violations.add(new Violation("jobName", m)));
    }
    if (!violations.isEmpty()) {
      throw new InvalidJobException(violations);
    }
    String name = config.jobName != null ? config.jobName : "job";
    return checked(
        new RunConfig(
            name,
            config.spec,
            rank,
            config.replicas,
            config.microBatch,
            config.gradientAccumulation));
  }

  private static RunConfig checked(RunConfig c) {
    List<Violation> v = new ArrayList<>();
    if (c.replicas < 1) {
      v.add(new Violation("replicas", "must be at least 1 (got " + c.replicas + ")"));
    } else if (c.rank < 0 || c.rank >= c.replicas) {
      v.add(
          new Violation(
              TrainerContract.ENV_RANK, "must be in [0, " + c.replicas + ") (got " + c.rank + ")"));
    }
    if (c.microBatch < 1) {
      v.add(new Violation("microBatch", "must be at least 1 (got " + c.microBatch + ")"));
    }
    if (c.accumulation < 1) {
      v.add(
          new Violation("gradientAccumulation", "must be at least 1 (got " + c.accumulation + ")"));
    }
    if (v.isEmpty()) {
      int shard = (c.globalBatch() + c.replicas - 1) / c.replicas;
      if ((long) c.microBatch * c.accumulation < shard) {
        v.add(
            new Violation(
                "gradientAccumulation",
                c.accumulation
                    + " micro-batches of "
                    + c.microBatch
                    + " cannot hold a shard of "
                    + shard
                    + " rows of the global batch "
                    + c.globalBatch()
                    + " across "
                    + c.replicas
                    + " replicas"));
      }
      if (shard < 1 || c.globalBatch() < c.replicas) {
        v.add(
            new Violation(
                "spec.training.globalBatchSize",
                "is smaller than the number of replicas " + c.replicas));
      }
    }
    if (!v.isEmpty()) {
      throw new InvalidJobException(v);
    }
    return c;
  }
}
