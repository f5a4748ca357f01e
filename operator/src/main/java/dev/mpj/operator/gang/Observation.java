package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.Violation;
import java.time.Instant;
import java.util.List;

/**
 * What one reconcile saw: the job (spec and last status), its replica pods, the time, the spec's
 * violations.
 */
public record Observation(
    MixedPrecisionJob job, List<Replica> replicas, Instant now, List<Violation> violations) {}
