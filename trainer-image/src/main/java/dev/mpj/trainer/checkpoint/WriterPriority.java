package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the calling thread's CPU priority (nice 19) and I/O priority (best effort, lowest), so the
 * checkpoint writer takes what the training loop leaves: Java's {@code Thread.setPriority} does
 * nothing on Linux, but a Linux thread is a task with its own nice value, which {@code renice}
 * changes by its id. Where that is not possible (not Linux, no renice) the writer runs at normal
 * priority: the result says so.
 */
final class WriterPriority {
  private WriterPriority() {}

  /** The calling thread's Linux task id, from /proc/thread-self ({@code <pid>/task/<tid>}). */
  static long currentTaskId() throws IOException {
    Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
    return Long.parseLong(link.getFileName().toString());
  }

  /** Lowers the calling thread's priorities; returns what was done, for the log. */
  static String lowerCurrentThread() {
    long tid;
    try {
      tid = currentTaskId();
    } catch (IOException | RuntimeException e) {
      return "normal priority (no /proc/thread-self: " + e.getMessage() + ")";
    }
    boolean cpu = run(List.of("renice", "-n", "19", "-p", Long.toString(tid)));
    boolean io = run(List.of("ionice", "-c", "2", "-n", "7", "-p", Long.toString(tid)));
    return (cpu ? "nice 19" : "normal CPU priority (renice failed)")
        + ", "
        + (io ? "I/O best effort 7" : "normal I/O priority (ionice failed)");
  }

  private static boolean run(List<String> command) {
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
