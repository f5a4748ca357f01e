package dev.mpj.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.ReferenceParityStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;

/**
 * One run's figures for the report, from a folder with its metrics.jsonl (and, once it finished,
 * summary.json; with reference parity, reference-parity.json): a trainer's output folder, or the
 * report data rank 0 leaves beside the checkpoints. A step that appears twice (an attempt resumed
 * before it) keeps its last line.
 *
 * @param label how the charts name the run
 * @param precision fp32 or fp16-mixed
 * @param loss training loss per step (NaN where it was not finite)
 * @param lossScale loss scale per step
 * @param skipped whether each step was skipped (overflow)
 * @param summary summary.json, or null when the run did not finish
 * @param referenceParity reference-parity.json, or null
 */
public record RunData(
    String label,
    String precision,
    TreeMap<Long, Double> loss,
    TreeMap<Long, Double> lossScale,
    TreeMap<Long, Boolean> skipped,
    JsonNode summary,
    ReferenceParityStatus referenceParity) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads a run folder.
   *
   * @throws IllegalArgumentException naming the folder when it holds no metrics.jsonl
   */
  public static RunData read(Path folder, String label) {
    Path metrics = folder.resolve("metrics.jsonl");
    if (!Files.isRegularFile(metrics)) {
      throw new IllegalArgumentException(
          folder + " holds no metrics.jsonl: not a run's output folder or report data");
    }
    try {
      TreeMap<Long, Double> loss = new TreeMap<>();
      TreeMap<Long, Double> scale = new TreeMap<>();
      TreeMap<Long, Boolean> skipped = new TreeMap<>();
      String precision = null;
      for (String line : Files.readAllLines(metrics)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode l = JSON.readTree(line);
        long step = l.path("step").asLong();
        loss.put(step, l.path("loss").isNumber() ? l.path("loss").asDouble() : Double.NaN);
        if (l.path("lossScale").isNumber()) {
          scale.put(step, l.path("lossScale").asDouble());
        }
        skipped.put(step, l.path("skipped").asBoolean(false));
      }
      JsonNode summary = readJson(folder.resolve("summary.json"));
      ReferenceParityStatus parity =
          Files.isRegularFile(folder.resolve("reference-parity.json"))
              ? JSON.readValue(
                  folder.resolve("reference-parity.json").toFile(), ReferenceParityStatus.class)
              : null;
      if (summary != null) {
        precision = summary.path("precision").asText(null);
      }
      if (precision == null && parity != null) {
        precision =
            parity.candidate != null
                ? parity.candidate.precision
                : parity.reference != null ? parity.reference.precision : null;
      }
      return new RunData(label, precision, loss, scale, skipped, summary, parity);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + folder + ": " + e.getMessage(), e);
    }
  }

  /** Steps skipped up to and including each step. */
  public TreeMap<Long, Integer> cumulativeSkipped() {
    TreeMap<Long, Integer> c = new TreeMap<>();
    int n = 0;
    for (var e : skipped.entrySet()) {
      n += e.getValue() ? 1 : 0;
      c.put(e.getKey(), n);
    }
    return c;
  }

  /** The final validation (loss, accuracy or null), or null when the run did not finish. */
  public double[] finalValidation() {
    if (summary == null || !summary.path("validation").path("loss").isNumber()) {
      return null;
    }
    JsonNode v = summary.path("validation");
    return new double[] {
      summary.path("steps").asLong(),
      v.path("loss").asDouble(),
      v.path("accuracy").isNumber() ? v.path("accuracy").asDouble() : Double.NaN
    };
  }

  private static JsonNode readJson(Path file) throws IOException {
    return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : null;
  }
}
