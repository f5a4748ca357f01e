package dev.mpj.api;

/** The phase of a MixedPrecisionJob. */
public enum JobPhase {
  Pending,
  Running,
  Restarting,
  Suspended,
  Succeeded,
  Failed;

  public boolean isFinished() {
    return this == Succeeded || this == Failed;
  }
}
