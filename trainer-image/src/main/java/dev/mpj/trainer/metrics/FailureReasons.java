package dev.mpj.trainer.metrics;

import java.util.Locale;

/**
 * Why a run failed, in one line a job's status can hold: what the trainer refused or met, never a
 * stack trace. Pure functions.
 */
public final class FailureReasons {
  /** A reason longer than this is cut: it shares 4 KiB with the final progress. */
  public static final int MAX_CHARS = 1024;

  private FailureReasons() {}

  /** {@code text} on one line (line breaks and runs of blanks to one space), cut to fit. */
  public static String oneLine(String text) {
    String line = text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    return line.length() <= MAX_CHARS ? line : line.substring(0, MAX_CHARS - 3) + "...";
  }

  /**
   * An error nobody planned for: out of memory when the JVM or the engine says so, else the
   * exception's type and first line.
   */
  public static String unexpected(Throwable e) {
    if (e instanceof OutOfMemoryError) {
      return oneLine(
          "out of memory (Java heap): "
              + e.getMessage()
              + "; raise spec.resources.memory or lower the micro-batch");
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("out of memory") || m.contains("not enough memory")) {
        return oneLine(
            "out of memory: " + firstLine(t.getMessage()) + "; raise the replica's memory");
      }
    }
    String message = e.getMessage() == null ? "" : ": " + firstLine(e.getMessage());
    return oneLine("unexpected error: " + e.getClass().getSimpleName() + message);
  }

  private static String firstLine(String text) {
    String stripped = text.strip();
    int end = stripped.indexOf('\n');
    return end < 0 ? stripped : stripped.substring(0, end);
  }
}
