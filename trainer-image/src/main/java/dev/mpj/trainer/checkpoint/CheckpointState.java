package dev.mpj.trainer.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.Map;

/**
 * state.json: everything besides the tensors that a resumed run needs to continue as if it had
 * never stopped, and the checksum of every other file of the checkpoint.
 *
 * @param format 2: the files' checksums are CRC32C; 1 (written before): SHA-256. Both are read.
 * @param step optimizer step attempts done (skipped ones included); the next step is {@code step +
 *     1}
 * @param skippedSteps steps skipped for inf/NaN gradients so far
 * @param optimizerUpdates updates the optimizer applied (its bias correction counts them)
 * @param epoch data position: the epoch of the data order
 * @param dataIndex data position: the next sample's index in that epoch's permutation
 * @param rng how randomness continues: every step reseeds the engine from (seed, step)
 * @param lossScaler the dynamic loss scaler's state
 * @param precision fp32 or fp16-mixed
 * @param modelConfigSha256 hash of what fixes the tensors' names and shapes (see {@link
 *     ModelConfigHash})
 * @param files the checksum (hex) of each file of the checkpoint by name, as {@code format} says
 */
public record CheckpointState(
    int format,
    long step,
    long skippedSteps,
    long optimizerUpdates,
    int epoch,
    int dataIndex,
    Rng rng,
    LossScalerState lossScaler,
    String precision,
    String modelConfigSha256,
    Map<String, String> files) {

  public static final String FILE = "state.json";
  public static final int FORMAT = 2;
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * The engine's RNG state cannot be read through DJL, so none is saved: step {@code s} reseeds the
   * engine with {@code stepSeed(seed, s)}, and {@code nextStepSeed} is that seed for {@code step +
   * 1}.
   */
  public record Rng(long seed, String derivation, int nextStepSeed) {}

  public record LossScalerState(double scale, int growthTracker) {}

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static CheckpointState parse(byte[] json) throws IOException {
    return JSON.readValue(json, CheckpointState.class);
  }
}
