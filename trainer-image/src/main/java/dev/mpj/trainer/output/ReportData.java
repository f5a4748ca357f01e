package dev.mpj.trainer.output;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The data of {@code mpj report}, which rank 0 leaves beside its checkpoints at the end of each
 * attempt (the output folder of a pod is lost with it): {@code report/} in the checkpoint folder
 * with the attempt's metrics.jsonl lines appended to the earlier attempts' (a resumed attempt
 * repeats the steps after its checkpoint; the reader keeps the last line of each step), and the
 * newest summary.json and reference-parity.json.
 */
public final class ReportData {
  /** The folder below the checkpoint folder. */
  public static final String FOLDER = "report";

  private ReportData() {}

  /**
   * Copies what {@code output} holds into {@code checkpoints/report}; best effort.
   *
   * @return empty when written, else why not
   */
  public static Optional<String> publish(Path output, Path checkpoints) {
    Path metrics = output.resolve("metrics.jsonl");
    if (!Files.isRegularFile(metrics)) {
      return Optional.empty();
    }
    Path folder = checkpoints.resolve(FOLDER);
    try {
      Files.createDirectories(folder);
      Files.write(
          folder.resolve("metrics.jsonl"),
          Files.readAllBytes(metrics),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      for (String name : new String[] {"summary.json", "reference-parity.json"}) {
        if (Files.isRegularFile(output.resolve(name))) {
          Path temporary = folder.resolve("." + name + ".tmp");
          Files.copy(output.resolve(name), temporary, StandardCopyOption.REPLACE_EXISTING);
          Files.move(
              temporary,
              folder.resolve(name),
              StandardCopyOption.REPLACE_EXISTING,
              StandardCopyOption.ATOMIC_MOVE);
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of("cannot write the report data to " + folder + ": " + e.getMessage());
    }
  }
}
