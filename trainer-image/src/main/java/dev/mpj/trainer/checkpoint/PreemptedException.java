package dev.mpj.trainer.checkpoint;

/** Stops the loop after SIGTERM, once the checkpoint of the last step is written. */
public final class PreemptedException extends RuntimeException {
  private final long step;

  public PreemptedException(long step) {
    super("stopped by SIGTERM after step " + step + "; its checkpoint is written");
    this.step = step;
  }

  public long step() {
    return step;
  }
}
