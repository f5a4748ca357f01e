package dev.mpj.operator.events;

import dev.mpj.api.MixedPrecisionJob;

/**
 * Records Events about a job where users look for them ({@code kubectl describe}, {@code kubectl
 * events}).
 */
public interface EventRecorder {
  void record(MixedPrecisionJob job, JobEvent event);

  /**
   * Records the event once for {@code occurrence}: recording the same event of the same occurrence
   * again (a reconcile that ran again because its status write failed) adds nothing.
   */
  default void record(MixedPrecisionJob job, JobEvent event, String occurrence) {
    record(job, event);
  }
}
