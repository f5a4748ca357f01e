package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A chaos hook: {@code -Dmpj.checkpoint.killDuringWrite=STEP} ends the trainer process as SIGKILL
 * would ({@link Runtime#halt}: no shutdown hook, no flush, exit 137) halfway through writing the
 * checkpoint of STEP, once its model file is on the disk and before its optimizer file and
 * state.json. Once only: a marker file beside the checkpoints records it, so the resumed run writes
 * that checkpoint. Unset (the default), nothing happens.
 */
final class KillDuringWrite {
  static final String PROPERTY = "mpj.checkpoint.killDuringWrite";

  /** The exit code of a process killed by SIGKILL, as a container runtime reports it. */
  static final int SIGKILL_EXIT = 137;

  private KillDuringWrite() {}

  /** The marker that says the kill of {@code step}'s write happened. */
  static Path marker(Path folder, long step) {
    return folder.resolve(".killed-during-write-" + CheckpointWriter.folderName(step));
  }

  /** Halts the process if the property names {@code step} and it has not been done before. */
  static void maybeHalt(Path folder, long step) throws IOException {
    String value = System.getProperty(PROPERTY);
    if (value == null || value.isBlank()) {
      return;
    }
    long at;
    try {
      at = Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PROPERTY + ": expected a step, not \"" + value + "\"");
    }
    Path marker = marker(folder, step);
    if (at != step || Files.exists(marker)) {
      return;
    }
    Files.writeString(marker, "killed while writing " + CheckpointWriter.folderName(step) + "\n");
    System.err.printf(
        "mpj-trainer: %s=%d: killing this process (as SIGKILL) in the middle of writing %s%n",
        PROPERTY, step, CheckpointWriter.folderName(step));
    System.err.flush();
    Runtime.getRuntime().halt(SIGKILL_EXIT);
  }
}
