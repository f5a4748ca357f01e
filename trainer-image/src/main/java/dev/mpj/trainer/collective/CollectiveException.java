package dev.mpj.trainer.collective;

import dev.mpj.api.TrainerContract;

/**
 * A collective operation could not complete. Always retryable: the gang restarts from the newest
 * checkpoint (exit code {@link TrainerContract#EXIT_REPLICAS_FAILED}); a bad configuration is an
 * IllegalArgumentException instead.
 */
public class CollectiveException extends RuntimeException {

  public CollectiveException(String message) {
    super(message);
  }

  public CollectiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
