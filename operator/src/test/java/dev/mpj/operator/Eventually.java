package dev.mpj.operator;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Polls until a condition holds or a timeout passes: the test waits for the operator, never sleeps
 * blindly.
 */
public final class Eventually {
  private Eventually() {}

  /**
   * Retries {@code assertion} until it stops throwing; rethrows its last failure after {@code
   * timeout}.
   */
  public static void eventually(Duration timeout, Runnable assertion) {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() > end) {
          throw e;
        }
      }
      pause();
    }
  }

  public static void eventually(Runnable assertion) {
    eventually(Duration.ofSeconds(20), assertion);
  }

  /** Retries until {@code value} gives a non-null result, and returns it. */
  public static <T> T await(Duration timeout, Supplier<T> value) {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      T result = value.get();
      if (result != null) {
        return result;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + timeout);
      }
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
