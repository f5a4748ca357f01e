package dev.mpj.trainer.metrics;

import dev.mpj.api.TrainerContract;
import dev.mpj.trainer.config.RunConfig;
import java.util.Map;

/**
 * The labels every trainer series carries: the MixedPrecisionJob's name and namespace, and this
 * replica's rank. Bounded: one value each for the life of the process.
 */
public record JobLabels(String jobName, String namespace, int replica) {
  /** Kubernetes' namespace for a manifest that names none. */
  public static final String DEFAULT_NAMESPACE = "default";

  public JobLabels {
    namespace = namespace == null || namespace.isBlank() ? DEFAULT_NAMESPACE : namespace;
  }

  /**
   * The pod's {@code MPJ_JOB_NAME} when set (the operator sets it), else the config's job name;
   * {@code namespace} from the rendered config or the manifest's metadata.
   */
  public static JobLabels of(RunConfig config, String namespace, Map<String, String> env) {
    String name = env.get(TrainerContract.ENV_JOB_NAME);
    return new JobLabels(
        name == null || name.isBlank() ? config.jobName() : name.trim(), namespace, config.rank());
  }
}
