package dev.mpj.testing;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Polls until a condition holds or a timeout passes: a test waits for the operator, a process or a
 * file, never sleeps blindly.
 */
public final class Eventually {
  private Eventually() {}

  /** What a poll reads; an exception it throws ends the wait at once (a process that died). */
  @FunctionalInterface
  public interface Poll<T> {
    T read() throws Exception;
  }

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

  /**
   * Polls until {@code value} gives a non-null result, and returns it; after {@code timeout} fails
   * with what {@code onTimeout} says.
   */
  public static <T> T await(Duration timeout, Poll<T> value, Supplier<String> onTimeout)
      throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      T result = value.read();
      if (result != null) {
        return result;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("not within " + timeout + ": " + onTimeout.get());
      }
      pause();
    }
  }

  /** Polls until {@code condition} holds; after {@code timeout} fails with {@code onTimeout}. */
  public static void until(Duration timeout, Poll<Boolean> condition, Supplier<String> onTimeout)
      throws Exception {
    await(timeout, () -> condition.read() ? Boolean.TRUE : null, onTimeout);
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
