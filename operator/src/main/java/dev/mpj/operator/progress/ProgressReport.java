package dev.mpj.operator.progress;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.CheckpointStatus;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ProgressStatus;
import java.io.IOException;
import java.time.Instant;

/**
 * What rank 0's {@code GET /progress} answered, in the shape of the job's status. Any part may be null.
 *
 * @param receivedAt when the operator read it
 */
public record ProgressReport(
    ProgressStatus progress, CheckpointStatus lastCheckpoint, ParityStatus parity, Instant receivedAt) {

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** The wire format: progress fields at the top level, lastCheckpoint and parity nested. */
  static final class Wire {
    public Long step;
    public Long totalSteps;
    public Double loss;
    public Double lossScale;
    public Long skippedSteps;
    public Double samplesPerSecond;
    public CheckpointStatus lastCheckpoint;
    public ParityStatus parity;
  }

  public static ProgressReport parse(String json, Instant receivedAt) throws IOException {
    Wire w = JSON.readValue(json, Wire.class);
    ProgressStatus p = new ProgressStatus();
    p.step = w.step;
    p.totalSteps = w.totalSteps;
    p.loss = finite(w.loss);
    p.lossScale = finite(w.lossScale);
    p.skippedSteps = w.skippedSteps;
    p.samplesPerSecond = finite(w.samplesPerSecond);
    p.updateTime = receivedAt.toString();
    return new ProgressReport(p, w.lastCheckpoint, w.parity, receivedAt);
  }

  /** A diverged loss is NaN; the status holds numbers only, so it is left out. */
  private static Double finite(Double d) {
    return d == null || !Double.isFinite(d) ? null : d;
  }
}
