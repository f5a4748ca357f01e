package dev.mpj.operator.resources;

import dev.mpj.api.MixedPrecisionJob;

/** Names of what the operator creates for a job, and where the trainer finds things in its pod. */
public final class JobNames {
  public static final String CONTAINER = "trainer";
  public static final String CONFIG_KEY = "config.yaml";
  public static final String TOKEN_KEY = "token";

  public static final String CONFIG_DIR = "/etc/mpj";
  public static final String CONFIG_PATH = CONFIG_DIR + "/" + CONFIG_KEY;
  public static final String OUTPUT_DIR = "/var/run/mpj/output";

  public static final String CHECKPOINT_DIR = "/var/run/mpj/checkpoints";
  public static final String TMP_DIR = "/tmp";

  private JobNames() {}

  public static String pod(String job, int rank) {
    return job + "-worker-" + rank;
  }

  public static String pod(MixedPrecisionJob job, int rank) {
    return pod(job.getMetadata().getName(), rank);
  }

  public static String service(MixedPrecisionJob job) {
    return job.getMetadata().getName() + "-workers";
  }

  public static String configMap(MixedPrecisionJob job) {
    return job.getMetadata().getName() + "-config";
  }

  public static String secret(MixedPrecisionJob job) {
    return job.getMetadata().getName() + "-token";
  }

  /** The claim the operator creates when spec.checkpoint.volume.size is set. */
  public static String checkpointClaim(MixedPrecisionJob job) {
    return job.getMetadata().getName() + "-checkpoints";
  }

  /** DNS name of rank 0 through the headless service: {@code <job>-worker-0.<service>.<ns>.svc}. */
  public static String coordinatorAddress(MixedPrecisionJob job) {
    return pod(job, 0) + "." + service(job) + "." + job.getMetadata().getNamespace() + ".svc";
  }
}
