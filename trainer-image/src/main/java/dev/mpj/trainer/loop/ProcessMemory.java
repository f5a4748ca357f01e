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

  private static long field(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(name)) {
          String[] parts = line.substring(name.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
