package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the newest checkpoint that is whole: state.json parses and every file it lists is there
 * with the checksum it records (CRC32C; SHA-256 in format 1). A damaged one (bad checksum,
 * truncated or missing file) is reported and the previous one tried. Reading changes nothing on
 * disk.
 */
public final class CheckpointReader {
  private static final Pattern STEP_FOLDER = Pattern.compile("step-(\\d{8,})");

  private CheckpointReader() {}

  /** A whole checkpoint, read into memory. */
  public record Loaded(
      Path folder,
      CheckpointState state,
      List<SafetensorsFile.Tensor> model,
      List<SafetensorsFile.Tensor> optimizer) {}

  /** The checkpoint folders ({@code step-NNNNNNNN}), newest step first. */
  public static List<Path> checkpointFolders(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (var entries = Files.list(folder)) {
      return entries
          .filter(Files::isDirectory)
          .filter(p -> STEP_FOLDER.matcher(p.getFileName().toString()).matches())
          .sorted(Comparator.comparingLong(CheckpointReader::stepOf).reversed())
          .toList();
    }
  }

  /** The folder name {@code latest} holds, or null when there is none. */
  public static String latestName(Path folder) throws IOException {
    try {
      return Files.readString(folder.resolve(CheckpointWriter.LATEST), StandardCharsets.UTF_8)
          .trim();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /**
   * The newest whole checkpoint under {@code folder}, or null when there is none; each damaged one
   * passed over is reported to {@code report}.
   */
  public static Loaded newestWhole(Path folder, Consumer<String> report) throws IOException {
    for (Path candidate : checkpointFolders(folder)) {
      try {
        return load(candidate);
      } catch (DamagedCheckpointException e) {
        report.accept(
            "checkpoint "
                + candidate.getFileName()
                + " is damaged ("
                + e.getMessage()
                + "): skipped");
      }
    }
    return null;
  }

  /** Reads and verifies one checkpoint folder. */
  public static Loaded load(Path checkpoint) throws DamagedCheckpointException {
    CheckpointState state;
    try {
      state = CheckpointState.parse(Files.readAllBytes(checkpoint.resolve(CheckpointState.FILE)));
    } catch (NoSuchFileException e) {
      throw new DamagedCheckpointException(CheckpointState.FILE + " is missing");
    } catch (IOException e) {
      throw new DamagedCheckpointException(
          CheckpointState.FILE + " cannot be read: " + e.getMessage());
    }
    if (state.files() == null
        || !state.files().containsKey(CheckpointWriter.MODEL)
        || !state.files().containsKey(CheckpointWriter.OPTIMIZER)) {
      throw new DamagedCheckpointException(
          CheckpointState.FILE + " lists no checksums for the tensor files");
    }
    String algorithm;
    try {
      algorithm = Checksums.algorithm(state.format());
    } catch (IllegalArgumentException e) {
      throw new DamagedCheckpointException(CheckpointState.FILE + ": " + e.getMessage());
    }
    Map<String, byte[]> contents = new HashMap<>();
    for (var file : state.files().entrySet()) {
      Path path = checkpoint.resolve(file.getKey());
      if (!Files.isRegularFile(path)) {
        throw new DamagedCheckpointException(file.getKey() + " is missing");
      }
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(path); // read once: checked, then parsed
      } catch (IOException e) {
        throw new DamagedCheckpointException(file.getKey() + " cannot be read: " + e.getMessage());
      }
      String actual = Checksums.of(state.format(), bytes);
      if (!actual.equals(file.getValue())) {
        throw new DamagedCheckpointException(
            file.getKey()
                + ": "
                + algorithm
                + " "
                + actual
                + " differs from "
                + file.getValue()
                + " in state.json");
      }
      contents.put(file.getKey(), bytes);
    }
    try {
      return new Loaded(
          checkpoint,
          state,
          SafetensorsFile.parse(CheckpointWriter.MODEL, contents.get(CheckpointWriter.MODEL)),
          SafetensorsFile.parse(
              CheckpointWriter.OPTIMIZER, contents.get(CheckpointWriter.OPTIMIZER)));
    } catch (IOException | RuntimeException e) {
      throw new DamagedCheckpointException("unreadable tensors: " + e.getMessage());
    }
  }

  static long stepOf(Path checkpoint) {
    Matcher m = STEP_FOLDER.matcher(checkpoint.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** A checkpoint that is not whole: the reason says which file and how. */
  public static final class DamagedCheckpointException extends Exception {
    DamagedCheckpointException(String message) {
      super(message);
    }
  }
}
