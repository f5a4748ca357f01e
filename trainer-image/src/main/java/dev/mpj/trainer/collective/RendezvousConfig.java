package dev.mpj.trainer.collective;

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

  public static final String RANK = "MPJ_RANK";
  public static final String WORLD_SIZE = "MPJ_WORLD_SIZE";
  public static final String COORDINATOR_ADDR = "MPJ_COORDINATOR_ADDR";
  public static final String COORDINATOR_PORT = "MPJ_COORDINATOR_PORT";
  public static final String JOB_TOKEN = "MPJ_JOB_TOKEN";

  /** Optional: seconds without progress before a collective fails (default 60). */
  public static final String OPERATION_TIMEOUT = "MPJ_COLLECTIVE_TIMEOUT_SECONDS";

  /** Optional: seconds the rendezvous waits for all peers (default 300). */
  public static final String RENDEZVOUS_TIMEOUT = "MPJ_RENDEZVOUS_TIMEOUT_SECONDS";

  /** Optional: the port of this rank's ring listener (default 0: any free port). */
  public static final String RING_PORT = "MPJ_RING_PORT";

  /** Optional: which start of the gang this is (default 0); set by the operator on every pod. */
  public static final String ATTEMPT = "MPJ_ATTEMPT";

  public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_RENDEZVOUS_TIMEOUT = Duration.ofSeconds(300);

  public RendezvousConfig {
    if (worldSize < 1) {
      throw new IllegalArgumentException(WORLD_SIZE + " must be at least 1, got " + worldSize);
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(RANK + " must be in [0, " + worldSize + "), got " + rank);
    }
    if (worldSize > 1) {
      if (coordinatorHost == null || coordinatorHost.isBlank()) {
        throw new IllegalArgumentException(
            COORDINATOR_ADDR + " is required when " + WORLD_SIZE + " > 1");
      }
      if (coordinatorPort < 1 || coordinatorPort > 65535) {
        throw new IllegalArgumentException(
            COORDINATOR_PORT + " must be a port in [1, 65535], got " + coordinatorPort);
      }
      if (jobToken == null || jobToken.isEmpty()) {
        throw new IllegalArgumentException(JOB_TOKEN + " is required when " + WORLD_SIZE + " > 1");
      }
    }
    if (ringPort < 0 || ringPort > 65535) {
      throw new IllegalArgumentException(
          RING_PORT + " must be a port in [0, 65535], got " + ringPort);
    }
    requirePositive(operationTimeout, OPERATION_TIMEOUT);
    requirePositive(rendezvousTimeout, RENDEZVOUS_TIMEOUT);
    if (attempt < 0) {
      throw new IllegalArgumentException(ATTEMPT + " must not be negative, got " + attempt);
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
   * Reads the variables above; a missing {@code MPJ_WORLD_SIZE} means a single replica.
   *
   * @throws IllegalArgumentException naming the variable when one is malformed (a bad config)
   */
  public static RendezvousConfig fromEnv(Map<String, String> env) {
    int worldSize = intVar(env, WORLD_SIZE, 1);
    return new RendezvousConfig(
        intVar(env, RANK, 0),
        worldSize,
        env.get(COORDINATOR_ADDR),
        intVar(env, COORDINATOR_PORT, 0),
        env.get(JOB_TOKEN),
        Duration.ofMillis(
            Math.round(
                1000
                    * doubleVar(
                        env, OPERATION_TIMEOUT, DEFAULT_OPERATION_TIMEOUT.toMillis() / 1000.0))),
        Duration.ofMillis(
            Math.round(
                1000
                    * doubleVar(
                        env, RENDEZVOUS_TIMEOUT, DEFAULT_RENDEZVOUS_TIMEOUT.toMillis() / 1000.0))),
        intVar(env, RING_PORT, 0),
        intVar(env, ATTEMPT, 0));
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
    env.put(RANK, Integer.toString(rank));
    env.put(WORLD_SIZE, Integer.toString(worldSize));
    if (coordinatorHost != null) {
      env.put(COORDINATOR_ADDR, coordinatorHost);
      env.put(COORDINATOR_PORT, Integer.toString(coordinatorPort));
    }
    if (jobToken != null) {
      env.put(JOB_TOKEN, jobToken);
    }
    env.put(OPERATION_TIMEOUT, Double.toString(operationTimeout.toMillis() / 1000.0));
    env.put(RENDEZVOUS_TIMEOUT, Double.toString(rendezvousTimeout.toMillis() / 1000.0));
    env.put(RING_PORT, Integer.toString(ringPort));
    env.put(ATTEMPT, Integer.toString(attempt));
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

  private static int intVar(Map<String, String> env, String name, int fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, got '" + value + "'");
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
