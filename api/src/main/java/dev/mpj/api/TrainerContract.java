package dev.mpj.api;

import dev.mpj.api.validation.InvalidJobException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What the operator and {@code mpj-trainer} agree on: the environment of a replica's container, the
 * trainer's exit codes, the termination message file, the container's port names and the GPU
 * resource and labels of the cluster. Both sides use these names, so neither can drift.
 */
public final class TrainerContract {

  // The environment the operator sets on every replica's container (ReplicaPods).
  public static final String ENV_JOB_NAME = "MPJ_JOB_NAME";
  public static final String ENV_RANK = "MPJ_RANK";
  public static final String ENV_WORLD_SIZE = "MPJ_WORLD_SIZE";
  public static final String ENV_COORDINATOR_ADDR = "MPJ_COORDINATOR_ADDR";
  public static final String ENV_COORDINATOR_PORT = "MPJ_COORDINATOR_PORT";
  public static final String ENV_JOB_TOKEN = "MPJ_JOB_TOKEN";

  /** Which start of the gang this is; replicas of different attempts refuse each other. */
  public static final String ENV_ATTEMPT = "MPJ_ATTEMPT";

  public static final String ENV_CONFIG = "MPJ_CONFIG";
  public static final String ENV_CHECKPOINT_DIR = "MPJ_CHECKPOINT_DIR";
  public static final String ENV_OUTPUT_DIR = "MPJ_OUTPUT_DIR";
  public static final String ENV_METRICS_PORT = "MPJ_METRICS_PORT";
  public static final String ENV_TERMINATION_MESSAGE_PATH = "MPJ_TERMINATION_MESSAGE_PATH";

  /** Every variable above: the operator sets them, so a job's spec.template.env must not. */
  public static final List<String> OPERATOR_SET_VARIABLES =
      List.of(
          ENV_JOB_NAME,
          ENV_RANK,
          ENV_WORLD_SIZE,
          ENV_COORDINATOR_ADDR,
          ENV_COORDINATOR_PORT,
          ENV_JOB_TOKEN,
          ENV_ATTEMPT,
          ENV_CONFIG,
          ENV_CHECKPOINT_DIR,
          ENV_OUTPUT_DIR,
          ENV_METRICS_PORT,
          ENV_TERMINATION_MESSAGE_PATH);

  /**
   * Extra JVM options of the trainer image's launcher (trainer-image/src/main/docker/mpj-trainer);
   * a job may set it through spec.template.env (e.g. -XX:MaxDirectMemorySize).
   */
  public static final String ENV_JAVA_OPTS = "MPJ_TRAINER_JAVA_OPTS";

  // Where the trainer finds things in its container; the operator mounts its own volumes there.
  /** The rendered config's folder (a ConfigMap, read-only). */
  public static final String CONFIG_DIR = "/etc/mpj";

  /** The replica's output folder (metrics.jsonl, summary.json). */
  public static final String OUTPUT_DIR = "/var/run/mpj/output";

  /** Rank 0's checkpoint folder (the checkpoint volume). */
  public static final String CHECKPOINT_DIR = "/var/run/mpj/checkpoints";

  /** Scratch space (the root file system is read-only). */
  public static final String TMP_DIR = "/tmp";

  /** Names of the volumes the operator adds to every replica's pod. */
  public static final List<String> OPERATOR_VOLUMES =
      List.of("config", "tmp", "output", "checkpoints");

  // Optional tuning the trainer reads; the operator does not set them.
  /** Seconds between SIGTERM and the forced exit (default 25). */
  public static final String ENV_TERMINATION_GRACE_SECONDS = "MPJ_TERMINATION_GRACE_SECONDS";

  /** Seconds without progress before a collective fails (default 60). */
  public static final String ENV_COLLECTIVE_TIMEOUT_SECONDS = "MPJ_COLLECTIVE_TIMEOUT_SECONDS";

  /** Seconds the rendezvous waits for all peers (default 300). */
  public static final String ENV_RENDEZVOUS_TIMEOUT_SECONDS = "MPJ_RENDEZVOUS_TIMEOUT_SECONDS";

  /** The port of this rank's ring listener (default 0: any free port). */
  public static final String ENV_RING_PORT = "MPJ_RING_PORT";

  /**
   * Set by {@code mpj local}'s kubelet only: its process id. A trainer stops when that process is
   * gone, so that an {@code mpj local} ended by SIGKILL leaves no trainer running. A real kubelet
   * does not set it: a container outlives a restart of its kubelet.
   */
  public static final String ENV_LOCAL_KUBELET_PID = "MPJ_LOCAL_KUBELET_PID";

  // The trainer's exit codes, which decide what the operator does next.
  /** Bad config: permanent, the operator does not restart the gang. */
  public static final int EXIT_BAD_CONFIG = 2;

  /** The parity check found FP16 and FP32 apart: permanent. */
  public static final int EXIT_PARITY_FAILURE = 3;

  /**
   * Rank 0 stopped an unhealthy fp16-mixed run because spec.parity.onDivergence is set; the
   * operator then fails it or falls back to FP32.
   */
  public static final int EXIT_UNHEALTHY = 4;

  /**
   * The job's run left the FP32 reference's figures (spec.parity.reference) with action fail:
   * permanent, the operator fails the job with reason ParityExceeded.
   */
  public static final int EXIT_REFERENCE_PARITY_EXCEEDED = 5;

  /** Below the checkpoint folder: the FP32 reference run's own checkpoints. */
  public static final String REFERENCE_CHECKPOINTS = "reference-fp32";

  /** EX_TEMPFAIL from sysexits.h: the replicas failed each other; retryable. */
  public static final int EXIT_REPLICAS_FAILED = 75;

  /** 128 + SIGTERM, as a shell reports a process ended by SIGTERM: interrupted, retryable. */
  public static final int EXIT_PREEMPTED = 143;

  /**
   * Kubernetes' default terminationMessagePath, set explicitly on the pod: rank 0 leaves its final
   * progress there for the pod's status.
   */
  public static final String TERMINATION_MESSAGE_PATH = "/dev/termination-log";

  /** The kubelet keeps at most this many bytes of a termination message. */
  public static final int TERMINATION_MESSAGE_MAX_BYTES = 4096;

  // Names of the trainer container's ports.
  public static final String PORT_COORDINATOR = "coordinator";
  public static final String PORT_METRICS = "metrics";

  /** The extended resource of the NVIDIA device plugin. */
  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  /** Node label of NVIDIA GPU feature discovery: memory of one GPU, in MiB. */
  public static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";

  /** Node label of NVIDIA GPU feature discovery: the GPU's product name. */
  public static final String GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";

  /** Node label of NVIDIA GPU feature discovery: how many GPUs the node has. */
  public static final String GPU_COUNT_LABEL = "nvidia.com/gpu.count";

  private TrainerContract() {}

  /**
   * The whole number in variable {@code name} of {@code env}; empty when unset or blank.
   *
   * @throws InvalidJobException naming the variable when it is set to something else
   */
  public static OptionalInt intVariable(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(value.trim()));
    } catch (NumberFormatException e) {
      throw new InvalidJobException(name, "is not a whole number: " + value);
    }
  }
}
