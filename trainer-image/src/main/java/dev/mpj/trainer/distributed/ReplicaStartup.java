package dev.mpj.trainer.distributed;

import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.PrintStream;
import java.util.HexFormat;
import java.util.Map;

/**
 * How a replica joins its peers before training (docs/concepts/replicas.md). In order: the session
 * is built from the config; rank 0 restores the newest checkpoint, if any; then {@link #join} the
 * group and {@link #synchronize}: rank 0 broadcasts its whole {@link ReplicaState}, the others load
 * it, and all prove they hold the same bytes before step 1; the session's gradients then go through
 * the ring ({@link CollectiveGradientSync}). With one replica no socket is opened and nothing
 * changes.
 */
public final class ReplicaStartup {

  private ReplicaStartup() {}

  /**
   * Joins the replicas named by the environment ({@code MPJ_RANK}, {@code MPJ_WORLD_SIZE}, {@code
   * MPJ_COORDINATOR_*}, {@code MPJ_JOB_TOKEN}, ...), which must agree with {@code config}.
   *
   * @throws InvalidJobException when a variable is malformed or disagrees with the config (exit 2)
   * @throws dev.mpj.trainer.collective.CollectiveException when the rendezvous fails (retryable)
   */
  public static ReplicaGroup join(RunConfig config, Map<String, String> env) {
    RendezvousConfig rendezvous;
    try {
      rendezvous = RendezvousConfig.fromEnv(env);
    } catch (IllegalArgumentException e) {
      throw new InvalidJobException(variableNamedIn(e.getMessage()), e.getMessage());
    }
    if (rendezvous.worldSize() != config.replicas()) {
      throw new InvalidJobException(
          TrainerContract.ENV_WORLD_SIZE,
          "is "
              + rendezvous.worldSize()
              + " but the config trains "
              + config.replicas()
              + " replicas");
    }
    if (rendezvous.rank() != config.rank()) {
      throw new InvalidJobException(
          TrainerContract.ENV_RANK,
          "is " + rendezvous.rank() + " but the config is for rank " + config.rank());
    }
    return ReplicaGroup.join(rendezvous);
  }

  /**
   * Makes every replica start from rank 0's state (weights, buffers, optimizer, loss scaler, step
   * and data position), checks that all hold the same bytes, and routes the session's gradients
   * through the ring. Called by every replica, after rank 0 has restored its checkpoint.
   *
   * @throws IllegalStateException when the replicas do not hold the same state afterwards, or rank
   *     0 trains another spec or model
   */
  public static void synchronize(
      ReplicaGroup group, TrainingSession session, RunConfig config, PrintStream log) {
    if (group.worldSize() == 1) {
      return;
    }
    byte[] start =
        group.broadcast(group.rank() == 0 ? ReplicaState.of(session, config).toBytes() : null);
    ReplicaState received = ReplicaState.fromBytes(start);
    if (group.rank() != 0) {
      received.loadInto(session, config);
    }
    long digest =
        requireSameState(
            group,
            ReplicaState.of(session, config).digest(),
            "before step " + (received.step() + 1));
    session.setGradientSync(new CollectiveGradientSync(group, session.weights().buffers()));
    log.printf(
        "mpj-trainer: rank %d of %d: %s state of step %d from rank 0 (%d bytes), identical on every replica (sha256 %s...)%n",
        group.rank(),
        group.worldSize(),
        group.rank() == 0 ? "sent the" : "loaded the",
        received.step(),
        start.length,
        HexFormat.of().toHexDigits(digest));
  }

  /**
   * After the last step: every replica should still hold the same bytes, since identical updates
   * were applied to identical state. Says so on {@code log}, or warns with each rank's digest:
   * replicas on CPUs of different kinds may round differently (other SIMD kernels); the run itself
   * has finished.
   *
   * @return whether they agree
   */
  public static boolean checkAgreement(
      ReplicaGroup group, TrainingSession session, RunConfig config, PrintStream log) {
    if (group.worldSize() == 1) {
      return true;
    }
    try {
      long digest =
          requireSameState(
              group, ReplicaState.of(session, config).digest(), "after step " + session.step());
      log.printf(
          "mpj-trainer: rank %d of %d: weights and state identical on every replica after step %d (sha256 %s...)%n",
          group.rank(), group.worldSize(), session.step(), HexFormat.of().toHexDigits(digest));
      return true;
    } catch (IllegalStateException e) {
      log.println("mpj-trainer: WARNING: " + e.getMessage());
      return false;
    }
  }

  private static long requireSameState(ReplicaGroup group, long mine, String when) {
    long[] all = group.allGather(mine);
    for (int rank = 0; rank < all.length; rank++) {
      if (all[rank] != all[0]) {
        StringBuilder digests = new StringBuilder();
        for (int r = 0; r < all.length; r++) {
          digests
              .append(r == 0 ? "" : ", ")
              .append("rank ")
              .append(r)
              .append(' ')
              .append(HexFormat.of().toHexDigits(all[r]));
        }
        throw new IllegalStateException(
            "the replicas do not hold the same weights and state " + when + ": " + digests);
      }
    }
    return mine;
  }

  private static String variableNamedIn(String message) {
    int end = message.indexOf(' ');
    return message.startsWith("MPJ_") && end > 0 ? message.substring(0, end) : "environment";
  }
}
