package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * A stand-in for a full checkpoint volume, for tests and chaos runs (a tmpfs or a quota needs
 * root): the checkpoints of the given steps run out of space after {@code afterBytes} bytes of
 * their files, as a write would fail with ENOSPC; the others find space again. Set in a trainer
 * process with {@code -Dmpj.checkpoint.diskFull=STEP[,STEP...]@BYTES}, e.g. {@code 20,30@4096}. No
 * steps: no fault (the default).
 */
public record DiskFullFault(Set<Long> steps, long afterBytes) {
  /** The system property that sets the fault in a trainer process. */
  public static final String PROPERTY = "mpj.checkpoint.diskFull";

  /** What the kernel's ENOSPC reads as in Java's exceptions. */
  public static final String NO_SPACE = "No space left on device";

  public DiskFullFault {
    steps = Set.copyOf(steps);
    if (afterBytes < 0) {
      throw new IllegalArgumentException(PROPERTY + ": bytes must be 0 or more, not " + afterBytes);
    }
  }

  public static DiskFullFault none() {
    return new DiskFullFault(Set.of(), 0);
  }

  /** The fault the system property sets, or none. */
  public static DiskFullFault fromSystemProperty() {
    String value = System.getProperty(PROPERTY);
    return value == null || value.isBlank() ? none() : parse(value);
  }

  /** Reads {@code STEP[,STEP...]@BYTES}. */
  public static DiskFullFault parse(String value) {
    int at = value.indexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException(
          PROPERTY + ": expected STEP[,STEP...]@BYTES, e.g. 20,30@4096, not \"" + value + "\"");
    }
    Set<Long> steps = new TreeSet<>();
    try {
      for (String s : value.substring(0, at).split(",")) {
        steps.add(Long.parseLong(s.strip()));
      }
      return new DiskFullFault(steps, Long.parseLong(value.substring(at + 1).strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          PROPERTY + ": expected STEP[,STEP...]@BYTES, e.g. 20,30@4096, not \"" + value + "\"");
    }
  }

  /** The space the checkpoint of {@code step} finds: unlimited unless the fault names it. */
  Space spaceFor(long step) {
    return new Space(steps.contains(step) ? afterBytes : Long.MAX_VALUE);
  }

  /** Space left for one checkpoint's files; every byte written is taken from it first. */
  static final class Space {
    private long left;

    Space(long left) {
      this.left = left;
    }

    static Space unlimited() {
      return new Space(Long.MAX_VALUE);
    }

    /**
     * How many of {@code wanted} bytes fit (all of them, or what is left); {@link #full} then
     * throws once the caller has written those.
     */
    long fitting(long wanted) {
      return Math.min(wanted, left);
    }

    void took(long bytes) {
      left -= bytes;
    }

    boolean isFull(long wanted) {
      return wanted > left;
    }

    IOException full(Path file) {
      return new IOException(file + ": " + NO_SPACE);
    }
  }
}
