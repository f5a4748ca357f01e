package dev.mpj.trainer.collective;

/**
 * A collective operation could not complete. Always retryable: the gang restarts from the newest
 * checkpoint (exit code {@link #EXIT_CODE}); a bad configuration is an IllegalArgumentException
 * instead.
 */
public class CollectiveException extends RuntimeException {

  /**
   * EX_TEMPFAIL from sysexits.h: the exit code a trainer uses for these, which the operator
   * retries.
   */
  public static final int EXIT_CODE = 75;

  public CollectiveException(String message) {
    super(message);
  }

  public CollectiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
