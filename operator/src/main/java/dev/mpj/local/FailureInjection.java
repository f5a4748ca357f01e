package dev.mpj.local;

/**
 * {@code --fail RANK@STEP}: the replica of that rank, in its first attempt, is killed with SIGKILL
 * once its metrics show that step, to show recovery from a real process death.
 */
public record FailureInjection(int rank, long step) {

  public static FailureInjection parse(String value) {
    String[] parts = value == null ? new String[0] : value.split("@");
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "--fail must be RANK@STEP, e.g. 1@120 (got " + value + ")");
    }
    try {
      int rank = Integer.parseInt(parts[0].trim());
      long step = Long.parseLong(parts[1].trim());
      if (rank < 0 || step < 1) {
        throw new IllegalArgumentException(
            "--fail needs RANK >= 0 and STEP >= 1 (got " + value + ")");
      }
      return new FailureInjection(rank, step);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--fail must be RANK@STEP with whole numbers (got " + value + ")");
    }
  }
}
