package dev.mpj.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One run's fault, in a job of {@code precision}: its kind, the replica it hits and the step it is
 * tied to (see {@link Kind}). Drawn from a seed: the same seed, the same faults.
 */
public record ChaosFault(int run, Kind kind, String precision, int rank, long step) {

  /** What a run does to the job, and what the job must do about it. */
  public enum Kind {
    /** SIGKILL of replica {@code rank} once it reaches {@code step} ({@code mpj local --fail}). */
    KILL(1),
    /**
     * As {@link #KILL}, and the newest checkpoint on the volume is damaged (a flipped byte in its
     * model file) before the next attempt reads it: the resume must pass over it (its CRC32C does
     * not match) and use the one before.
     */
    CORRUPT_NEWEST(1),
    /**
     * Rank 0 (the writer) killed, as SIGKILL, in the middle of writing the checkpoint of {@code
     * step} (after its model file): the resume uses the checkpoint before it.
     */
    KILL_DURING_WRITE(1),
    /**
     * The checkpoint volume is full while the checkpoint of {@code step} is written: it is not
     * written, training goes on with no restart, and the next checkpoint is written.
     */
    DISK_FULL(0),
    /**
     * Replica {@code rank} stopped (SIGSTOP) once it reaches {@code step}: the other replica's
     * collective must time out (the chaos job sets it to {@link #STOP_TIMEOUT_SECONDS}), and the
     * gang restarts.
     */
    SIGSTOP(1),
    /**
     * Replica {@code rank} killed (SIGKILL) at start-up, once its log shows the data line (the last
     * it prints before it joins the replica group) and before its first step: while the group
     * forms. The rank that waits in the rendezvous must be ended by the gang's restart.
     */
    KILL_AT_RENDEZVOUS(1),
    /**
     * The operator's process ({@code mpj local --operator-process}) killed with SIGKILL once rank 0
     * reaches {@code step} (0: once attempt 1's trainers are started, before their first step) and
     * started again by {@code mpj local}, as a Deployment restarts its pod. The trainers train on:
     * no restart, one attempt, the job followed to its end by the new operator.
     */
    OPERATOR_RESTART(0);

    /** The collective timeout of a {@link #SIGSTOP} run, in seconds: small, so the run is short. */
    public static final int STOP_TIMEOUT_SECONDS = 10;

    /** Restarts the fault needs. */
    public final int restarts;

    Kind(int restarts) {
      this.restarts = restarts;
    }

    /** As {@code --faults} takes it: {@code kill}, {@code corrupt-newest}, ... */
    public String flag() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Kind ofFlag(String flag) {
      for (Kind k : values()) {
        if (k.flag().equals(flag.strip())) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "unknown fault \""
              + flag
              + "\"; known: kill, corrupt-newest, kill-during-write, disk-full, sigstop,"
              + " kill-at-rendezvous, operator-restart");
    }
  }

  /**
   * {@code runs} faults: precisions in turn, a kind drawn from {@code kinds}, then its rank and
   * step. A kill: a random rank, a step from 5 to {@code steps - interval}. A corrupted newest
   * checkpoint: a kill after the second checkpoint ({@code 2 * interval + 1} on), so that one
   * before the newest is there. A kill during a write: rank 0 (the writer), a checkpoint step from
   * the second to the one before the last. A stopped replica: as a kill. A full disk: rank 0, a
   * checkpoint step before the last. An operator restart: rank 0's step from 0 (before the first)
   * to {@code steps - interval}.
   */
  public static List<ChaosFault> draw(
      long seed,
      int runs,
      List<String> precisions,
      List<Kind> kinds,
      int replicas,
      long steps,
      long interval) {
    Random random = new Random(seed);
    long checkpoints = steps / interval;
    List<ChaosFault> faults = new ArrayList<>(runs);
    for (int run = 1; run <= runs; run++) {
      String precision = precisions.get((run - 1) % precisions.size());
      Kind kind = kinds.get(random.nextInt(kinds.size()));
      int rank = random.nextInt(replicas);
      long step =
          switch (kind) {
            case KILL, SIGSTOP -> between(random, 5, Math.max(6, steps - interval));
            case CORRUPT_NEWEST ->
                between(random, 2 * interval + 1, Math.max(2 * interval + 2, steps - interval));
            case KILL_DURING_WRITE -> interval * between(random, 2, Math.max(2, checkpoints - 1));
            case DISK_FULL -> interval * between(random, 1, Math.max(1, checkpoints - 1));
            case KILL_AT_RENDEZVOUS -> 0;
            case OPERATOR_RESTART -> between(random, 0, Math.max(0, steps - interval));
          };
      if (kind == Kind.KILL_DURING_WRITE
          || kind == Kind.DISK_FULL
          || kind == Kind.OPERATOR_RESTART) {
        rank = 0;
      }
      faults.add(new ChaosFault(run, kind, precision, rank, step));
    }
    return faults;
  }

  /** A whole number from {@code from} to {@code to}, both included. */
  private static long between(Random random, long from, long to) {
    return from + (long) (random.nextDouble() * (to - from + 1));
  }

  /** As {@code mpj local --fail} takes it, for the kinds that kill through it; else null. */
  public String failFlag() {
    return kind == Kind.KILL || kind == Kind.CORRUPT_NEWEST ? rank + "@" + step : null;
  }

  /**
   * The trainer's JVM option that injects the fault, for the kinds the trainer injects; else null.
   */
  public String trainerOption() {
    return switch (kind) {
      case KILL_DURING_WRITE -> "-Dmpj.checkpoint.killDuringWrite=" + step;
      case DISK_FULL -> "-Dmpj.checkpoint.diskFull=" + step + "@4096";
      default -> null;
    };
  }

  /**
   * Checkpoints the fault itself destroys after they were published: one for a corrupted newest
   * checkpoint; none otherwise (a checkpoint whose write was killed was never published).
   */
  public int destroyedCheckpoints() {
    return kind == Kind.CORRUPT_NEWEST ? 1 : 0;
  }

  /** One line's description, e.g. {@code SIGKILL rank 1 at step 14}. */
  public String describe() {
    return switch (kind) {
      case KILL -> String.format("SIGKILL rank %d at step %3d", rank, step);
      case CORRUPT_NEWEST ->
          String.format("newest checkpoint corrupted, SIGKILL rank %d at step %3d", rank, step);
      case KILL_DURING_WRITE -> String.format("SIGKILL rank 0 writing checkpoint %3d", step);
      case DISK_FULL -> String.format("disk full writing checkpoint %3d", step);
      case SIGSTOP -> String.format("SIGSTOP rank %d at step %3d", rank, step);
      case KILL_AT_RENDEZVOUS -> String.format("SIGKILL rank %d in the rendezvous", rank);
      case OPERATOR_RESTART ->
          step == 0
              ? "operator SIGKILLed and restarted before step 1"
              : String.format("operator SIGKILLed and restarted at step %3d", step);
    };
  }
}
