package dev.mpj.trainer.checkpoint;

import dev.mpj.api.TrainerContract;
import java.time.Duration;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (a pod being deleted, a node drained) asks the run to stop: the loop finishes its step,
 * writes a checkpoint of it and exits with {@link TrainerContract#EXIT_PREEMPTED}. If that takes
 * longer than the grace period, the process halts with the same code: the pod's own grace (60 s)
 * must not run out first, or the kubelet's SIGKILL would decide the exit code.
 */
public final class PreemptionHandler implements AutoCloseable {
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(25);

  private static final Signal TERM = new Signal("TERM");
  private final Duration grace;
  private final SignalHandler previous;
  private volatile long requestedAtNanos;
  private volatile boolean requested;

  private PreemptionHandler(Duration grace) {
    this.grace = grace;
    this.previous = Signal.handle(TERM, signal -> request());
  }

  /** Takes over SIGTERM until {@link #close}. */
  public static PreemptionHandler install(Duration grace) {
    return new PreemptionHandler(grace);
  }

  /** Whether SIGTERM arrived: the loop stops after the step it is in. */
  public boolean requested() {
    return requested;
  }

  public Duration grace() {
    return grace;
  }

  /** Seconds since SIGTERM arrived. */
  public double secondsSinceRequest() {
    return (System.nanoTime() - requestedAtNanos) / 1e9;
  }

  void request() {
    if (requested) {
      return;
    }
    requestedAtNanos = System.nanoTime();
    requested = true;
    System.err.printf(
        "mpj-trainer: SIGTERM: finishing this step, writing a checkpoint, exiting within %d s%n",
        grace.toSeconds());
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(grace.toMillis());
              } catch (InterruptedException e) {
                return;
              }
              System.err.printf(
                  "mpj-trainer: the checkpoint did not finish within the %d s grace period: exiting without it%n",
                  grace.toSeconds());
              Runtime.getRuntime().halt(TrainerContract.EXIT_PREEMPTED);
            },
            "preemption-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  @Override
  public void close() {
    Signal.handle(TERM, previous);
  }
}
