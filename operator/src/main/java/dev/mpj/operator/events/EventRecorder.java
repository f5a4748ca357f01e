package dev.mpj.operator.events;

import dev.mpj.api.MixedPrecisionJob;

/**
 * Records Events about a job where users look for them ({@code kubectl describe}, {@code kubectl
 * events}).
 */
public interface EventRecorder {
  void record(MixedPrecisionJob job, JobEvent event);
}
