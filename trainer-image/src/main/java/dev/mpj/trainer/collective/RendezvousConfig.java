package dev.mpj.trainer.collective;

import static dev.mpj.api.TrainerContract.ENV_ATTEMPT;
import static dev.mpj.api.TrainerContract.ENV_COLLECTIVE_TIMEOUT_SECONDS;
import static dev.mpj.api.TrainerContract.ENV_COORDINATOR_ADDR;
import static dev.mpj.api.TrainerContract.ENV_COORDINATOR_PORT;
import static dev.mpj.api.TrainerContract.ENV_JOB_TOKEN;
import static dev.mpj.api.TrainerContract.ENV_RANK;
import static dev.mpj.api.TrainerContract.ENV_RENDEZVOUS_TIMEOUT_SECONDS;
import static dev.mpj.api.TrainerContract.ENV_RING_PORT;
import static dev.mpj.api.TrainerContract.ENV_WORLD_SIZE;
import static dev.mpj.api.TrainerContract.intVariable;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a replica finds its peers, from the environment of a trainer pod (see DESIGN.md).
 *
 * @param rank this replica, 0 to worldSize - 1; rank 0 is the coordinator
 * @param worldSize how many replicas train together
 * @param coordinatorHost the address every rank reaches rank 0 at
 * @param coordinatorPort the port rank 0 listens on for the rendezvous
 * @param jobToken the job's shared secret; every connection proves it knows it
 * @param operationTimeout how long a collective waits without any progress before it gives up
 * @param rendezvousTimeout how long forming the group may take (pods start at different times)
 * @param ringPort the port this rank listens on for its ring predecessor; 0 picks a free one
 * @param attempt which start of the gang this is: replicas of different attempts refuse each other,
 *     so a straggler of an earlier attempt cannot join a restarted gang
 */
public record RendezvousConfig(
    int rank,
    int worldSize,
    String coordinatorHost,
    int coordinatorPort,
    String jobToken,
    Duration operationTimeout,
    Duration rendezvousTimeout,
    int ringPort,
    int attempt) {

  public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_RENDEZVOUS_TIMEOUT = Duration.ofSeconds(300);

  public RendezvousConfig {
    if (worldSize < 1) {
      throw new IllegalArgumentException(ENV_WORLD_SIZE + " must be at least 1, got " + worldSize);
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(
          ENV_RANK + " must be in [0, " + worldSize + "), got " + rank);
    }
    if (worldSize > 1) {
      if (coordinatorHost == null || coordinatorHost.isBlank()) {
        throw new IllegalArgumentException(
            ENV_COORDINATOR_ADDR + " is required when " + ENV_WORLD_SIZE + " > 1");
      }
      if (coordinatorPort < 1 || coordinatorPort > 65535) {
        throw new IllegalArgumentException(
            ENV_COORDINATOR_PORT + " must be a port in [1, 65535], got " + coordinatorPort);
      }
      if (jobToken == null || jobToken.isEmpty()) {
        throw new IllegalArgumentException(
            ENV_JOB_TOKEN + " is required when " + ENV_WORLD_SIZE + " > 1");
      }
    }
    if (ringPort < 0 || ringPort > 65535) {
      throw new IllegalArgumentException(
          ENV_RING_PORT + " must be a port in [0, 65535], got " + ringPort);
    }
    requirePositive(operationTimeout, ENV_COLLECTIVE_TIMEOUT_SECONDS);
    requirePositive(rendezvousTimeout, ENV_RENDEZVOUS_TIMEOUT_SECONDS);
    if (attempt < 0) {
      throw new IllegalArgumentException(ENV_ATTEMPT + " must not be negative, got " + attempt);
    }
  }

  /** The first attempt. */
  public RendezvousConfig(
      int rank,
      int worldSize,
      String coordinatorHost,
      int coordinatorPort,
      String jobToken,
      Duration operationTimeout,
      Duration rendezvousTimeout,
      int ringPort) {
    this(
        rank,
        worldSize,
        coordinatorHost,
        coordinatorPort,
        jobToken,
        operationTimeout,
        rendezvousTimeout,
        ringPort,
        0);
  }

  /** A single replica that talks to nobody. */
  public static RendezvousConfig single() {
    return new RendezvousConfig(
        0, 1, null, 0, null, DEFAULT_OPERATION_TIMEOUT, DEFAULT_RENDEZVOUS_TIMEOUT, 0);
  }

  /**
   * Reads the variables of {@link dev.mpj.api.TrainerContract}; a missing {@code MPJ_WORLD_SIZE}
   * means a single replica.
   *
   * @throws dev.mpj.api.validation.InvalidJobException naming the variable when a whole number is
   *     malformed
   * @throws IllegalArgumentException naming the variable when a value is out of range (a bad
   *     config)
   */
  public static RendezvousConfig fromEnv(Map<String, String> env) {
    int worldSize = intVariable(env, ENV_WORLD_SIZE).orElse(1);
    return new RendezvousConfig(
        intVariable(env, ENV_RANK).orElse(0),
        worldSize,
        env.get(ENV_COORDINATOR_ADDR),
        intVariable(env, ENV_COORDINATOR_PORT).orElse(0),
        env.get(ENV_JOB_TOKEN),
        Duration.ofMillis(
            Math.round(
                1000
                    * doubleVar(
                        env,
                        ENV_COLLECTIVE_TIMEOUT_SECONDS,
                        DEFAULT_OPERATION_TIMEOUT.toMillis() / 1000.0))),
        Duration.ofMillis(
            Math.round(
                1000
                    * doubleVar(
                        env,
                        ENV_RENDEZVOUS_TIMEOUT_SECONDS,
                        DEFAULT_RENDEZVOUS_TIMEOUT.toMillis() / 1000.0))),
        intVariable(env, ENV_RING_PORT).orElse(0),
        intVariable(env, ENV_ATTEMPT).orElse(0));
  }

  /** The same rendezvous for another rank: how a launcher derives each replica's settings. */
  public RendezvousConfig withRank(int otherRank) {
    return new RendezvousConfig(
        otherRank,
        worldSize,
        coordinatorHost,
        coordinatorPort,
        jobToken,
        operationTimeout,
        rendezvousTimeout,
        ringPort,
        attempt);
  }

  public RendezvousConfig withTimeouts(Duration operation, Duration rendezvous) {
    return new RendezvousConfig(
        rank,
        worldSize,
        coordinatorHost,
        coordinatorPort,
        jobToken,
        operation,
        rendezvous,
        ringPort,
        attempt);
  }

  /** The variables {@link #fromEnv} reads back to this config: for launching replica processes. */
  public Map<String, String> toEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(ENV_RANK, Integer.toString(rank));
    env.put(ENV_WORLD_SIZE, Integer.toString(worldSize));
    if (coordinatorHost != null) {
      env.put(ENV_COORDINATOR_ADDR, coordinatorHost);
      env.put(ENV_COORDINATOR_PORT, Integer.toString(coordinatorPort));
    }
    if (jobToken != null) {
      env.put(ENV_JOB_TOKEN, jobToken);
    }
    env.put(ENV_COLLECTIVE_TIMEOUT_SECONDS, Double.toString(operationTimeout.toMillis() / 1000.0));
    env.put(ENV_RENDEZVOUS_TIMEOUT_SECONDS, Double.toString(rendezvousTimeout.toMillis() / 1000.0));
    env.put(ENV_RING_PORT, Integer.toString(ringPort));
    env.put(ENV_ATTEMPT, Integer.toString(attempt));
    return env;
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "RendezvousConfig[rank="
        + rank
        + ", worldSize="
        + worldSize
        + ", coordinator="
        + coordinatorHost
        + ":"
        + coordinatorPort
        + ", operationTimeout="
        + operationTimeout
        + ", rendezvousTimeout="
        + rendezvousTimeout
        + ", ringPort="
        + ringPort
        + ", attempt="
        + attempt
        + "]";
  }

  private static void requirePositive(Duration duration, String name) {
    if (duration == null || duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + duration);
    }
  }

  private static double doubleVar(Map<String, String> env, String name, double fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      double parsed = Double.parseDouble(value.trim());
      if (!(parsed > 0) || Double.isInfinite(parsed)) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          name + " must be a positive number of seconds, got '" + value + "'");
    }
  }
}
