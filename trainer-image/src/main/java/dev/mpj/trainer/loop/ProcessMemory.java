package dev.mpj.trainer.loop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process, from /proc/self/status (Linux); -1 where it cannot be read. */
public final class ProcessMemory {
  private ProcessMemory() {}

  /** The high-water mark of resident memory (VmHWM). */
  public static long peakRssBytes() {
    return field("VmHWM:");
  }

  /**
   * Lowers the high-water mark to the resident memory now (Linux: "5" to /proc/self/clear_refs), so
   * that a later {@link #peakRssBytes} is the peak since this call; false where that is not
   * allowed.
   */
  public static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Resident memory now that is mapped from files (RssFile): mostly the code of the libraries,
   * paged in as their functions first run.
   */
  public static long fileRssBytes() {
    return field("RssFile:");
  }

  /** Resident memory now (VmRSS). */
  public static long rssBytes() {
    return field("VmRSS:");
  }

  /**
   * Resident memory, its high-water mark and its file-mapped part, in bytes, from one read of
   * /proc/self/status (the kernel reports the mark as at least the resident memory of the same
   * read); -1 each where it cannot be read.
   */
  public record Reading(long rssBytes, long peakBytes, long fileBytes) {
    static final Reading UNKNOWN = new Reading(-1, -1, -1);
  }

  /** The three figures of {@link Reading} at once: one read where the step loop needs several. */
  public static Reading read() {
    String status = status();
    return status == null
        ? Reading.UNKNOWN
        : new Reading(bytes(status, "VmRSS:"), bytes(status, "VmHWM:"), bytes(status, "RssFile:"));
  }

  private static long field(String name) {
    String status = status();
    return status == null ? -1 : bytes(status, name);
  }

  private static String status() {
    try {
      return Files.readString(Path.of("/proc/self/status"));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The value of the line that starts with {@code name} ("VmRSS: 123 kB"), in bytes; else -1. */
  private static long bytes(String status, String name) {
    int at = status.startsWith(name) ? 0 : status.indexOf("\n" + name);
    if (at < 0) {
      return -1;
    }
    int from = status.indexOf(name, at) + name.length();
    while (from < status.length() && Character.isWhitespace(status.charAt(from))) {
      from++;
    }
    int to = from;
    while (to < status.length() && Character.isDigit(status.charAt(to))) {
      to++;
    }
    return to == from ? -1 : Long.parseLong(status, from, to, 10) * 1024;
  }
}
