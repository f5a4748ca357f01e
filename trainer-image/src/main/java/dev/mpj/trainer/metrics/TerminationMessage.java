package dev.mpj.trainer.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.TrainerContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A replica's last word, written to the container's termination message file, which the kubelet
 * copies into the pod's {@code containerStatuses[].state.terminated.message}: rank 0's {@code
 * /progress} JSON of the finished run, and, from any replica that failed, {@code reason}: why, in
 * one line. The operator reads it there, so a finished job's status shows the final step even when
 * its last poll of {@code /progress} was seconds old, and a failed job's status says why.
 */
public final class TerminationMessage {
  /** The field that says why the replica failed (absent when it did not). */
  public static final String REASON = "reason";

  /** Reference parity's verdict at its step (spec.parity.reference), kept to the last. */
  public static final String REFERENCE_PARITY = "referenceParity";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private TerminationMessage() {}

  /**
   * Where to write: the given path, else {@code $MPJ_TERMINATION_MESSAGE_PATH}, else {@code
   * fallback} when it exists and is writable, else nowhere.
   */
  public static Optional<Path> target(Path given, Map<String, String> env, Path fallback) {
    if (given != null) {
      return Optional.of(given);
    }
    String named = env.get(TrainerContract.ENV_TERMINATION_MESSAGE_PATH);
    if (named != null && !named.isBlank()) {
      return Optional.of(Path.of(named.trim()));
    }
    return Files.isRegularFile(fallback) && Files.isWritable(fallback)
        ? Optional.of(fallback)
        : Optional.empty();
  }

  /**
   * The progress as JSON of at most {@link TrainerContract#TERMINATION_MESSAGE_MAX_BYTES}: the
   * optional parts (parity, then the checkpoint's path, then the checkpoint) are dropped until it
   * fits.
   */
  public static byte[] render(Map<String, Object> progress) throws JsonProcessingException {
    return render(progress, null);
  }

  /**
   * The reason (one line, first, at most {@link FailureReasons#MAX_CHARS}) and the progress (maybe
   * empty) as JSON of at most {@link TrainerContract#TERMINATION_MESSAGE_MAX_BYTES}: the progress's
   * optional parts (parity, then the checkpoint's path, then the checkpoint, then reference
   * parity's message and reference figures, then health) are dropped until it fits; reference
   * parity's verdict, gaps and the run's own figures stay.
   */
  public static byte[] render(Map<String, Object> progress, String reason)
      throws JsonProcessingException {
    Map<String, Object> p = new LinkedHashMap<>();
    if (reason != null) {
      p.put(REASON, FailureReasons.oneLine(reason));
    }
    p.putAll(progress);
    byte[] json = JSON.writeValueAsBytes(p);
    if (json.length > TrainerContract.TERMINATION_MESSAGE_MAX_BYTES && p.remove("parity") != null) {
      json = JSON.writeValueAsBytes(p);
    }
    if (json.length > TrainerContract.TERMINATION_MESSAGE_MAX_BYTES
        && p.get("lastCheckpoint") instanceof Map<?, ?> checkpoint) {
      Map<Object, Object> shorter = new LinkedHashMap<>(checkpoint);
      shorter.remove("path");
      p.put("lastCheckpoint", shorter);
      json = JSON.writeValueAsBytes(p);
    }
    if (json.length > TrainerContract.TERMINATION_MESSAGE_MAX_BYTES
        && p.remove("lastCheckpoint") != null) {
      json = JSON.writeValueAsBytes(p);
    }
    if (json.length > TrainerContract.TERMINATION_MESSAGE_MAX_BYTES
        && p.get(REFERENCE_PARITY) != null) {
      // The verdict outlives the run only here when it ended before the operator's next poll:
      // keep it, without its words and the reference's figures (the operator has those).
      Map<String, Object> verdict = JSON.convertValue(p.get(REFERENCE_PARITY), MAP);
      verdict.remove("message");
      verdict.remove("reference");
      p.put(REFERENCE_PARITY, verdict);
      json = JSON.writeValueAsBytes(p);
    }
    if (json.length > TrainerContract.TERMINATION_MESSAGE_MAX_BYTES && p.remove("health") != null) {
      json = JSON.writeValueAsBytes(p);
    }
    return json;
  }

  /**
   * Writes the progress to {@code file}, best effort: a failure is returned as a message, never
   * thrown, because the run's exit code must not depend on it.
   *
   * @return empty when written, else why not
   */
  public static Optional<String> write(Path file, Map<String, Object> progress) {
    return write(file, progress, null);
  }

  /** As {@link #write(Path, Map)}, with why the replica failed (null when it did not). */
  public static Optional<String> write(Path file, Map<String, Object> progress, String reason) {
    try {
      Files.write(file, render(progress, reason));
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of("cannot write the termination message to " + file + ": " + e);
    }
  }
}
