package dev.mpj.trainer.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.parity.ReferenceComparison;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reference parity: a candidate run (e.g. fp16-mixed) against a reference run of the same job in
 * FP32, from their output folders: the final validation loss and accuracy (summary.json), and the
 * training-loss curves (metrics.jsonl) over the last {@code windowSteps} steps both runs have. The
 * gaps and verdict are {@link ReferenceComparison}'s, which the trainer of a job with
 * spec.parity.reference uses too.
 */
public final class RunComparison {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One output folder's figures. */
  public record Run(
      String precision,
      long steps,
      double validationLoss,
      Double validationAccuracy,
      TreeMap<Long, Double> trainingLoss) {}

  /**
   * @param maxAccuracyDrop the candidate's validation accuracy may be this many percentage points
   *     below the reference's
   * @param maxRelativeLossGap largest |candidate - reference| / reference of the validation loss
   *     and of the mean training loss over the window
   */
  public record Thresholds(double maxAccuracyDrop, double maxRelativeLossGap, int windowSteps) {}

  /** The figures of both runs, the gaps and the verdict. */
  public record Result(
      Run reference,
      Run candidate,
      Double accuracyDropPoints,
      double validationLossGap,
      double trainingLossGap,
      int windowSteps,
      long firstWindowStep,
      long lastWindowStep,
      List<String> exceeded) {
    public boolean withinBounds() {
      return exceeded.isEmpty();
    }

    /** As JSON: both runs' figures, the gaps and the verdict. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("reference", run(reference));
      m.put("candidate", run(candidate));
      m.put("accuracyDropPoints", accuracyDropPoints);
      m.put("validationLossGap", validationLossGap);
      m.put("trainingLossGap", trainingLossGap);
      m.put("window", Map.of("steps", windowSteps, "from", firstWindowStep, "to", lastWindowStep));
      m.put("withinBounds", withinBounds());
      m.put("exceeded", exceeded);
      return m;
    }

    private static Map<String, Object> run(Run r) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("precision", r.precision());
      m.put("steps", r.steps());
      m.put("validationLoss", r.validationLoss());
      m.put("validationAccuracy", r.validationAccuracy());
      return m;
    }
  }

  private RunComparison() {}

  /**
   * Reads summary.json and metrics.jsonl of a finished run; a clear error names what is missing.
   */
  public static Run read(Path folder, String option) {
    try {
      JsonNode summary = JSON.readTree(Files.readAllBytes(folder.resolve("summary.json")));
      TreeMap<Long, Double> losses = new TreeMap<>();
      for (String line : Files.readAllLines(folder.resolve("metrics.jsonl"))) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode l = JSON.readTree(line);
        JsonNode loss = l.path("loss");
        losses.put(l.path("step").asLong(), loss.isNumber() ? loss.asDouble() : Double.NaN);
      }
      JsonNode validation = summary.path("validation");
      JsonNode accuracy = validation.path("accuracy");
      return new Run(
          summary.path("precision").asText(),
          summary.path("steps").asLong(),
          validation.path("loss").isNumber() ? validation.path("loss").asDouble() : Double.NaN,
          accuracy.isNumber() ? accuracy.asDouble() : null,
          losses);
    } catch (NoSuchFileException e) {
      throw new InvalidJobException(
          option, folder + " is not a finished run's output folder: no " + e.getFile());
    } catch (IOException e) {
      throw new InvalidJobException(option, "cannot read " + folder + ": " + e.getMessage());
    }
  }

  public static Result compare(Run reference, Run candidate, Thresholds t) {
    List<Long> common =
        reference.trainingLoss().keySet().stream()
            .filter(candidate.trainingLoss()::containsKey)
            .toList();
    if (common.isEmpty()) {
      throw new InvalidJobException(
          "--candidate", "the runs have no step in common: compare runs of the same job");
    }
    List<Long> window = common.subList(Math.max(0, common.size() - t.windowSteps()), common.size());
    ReferenceComparison.Gaps g =
        ReferenceComparison.compare(
            reference.validationLoss(),
            reference.validationAccuracy(),
            mean(reference.trainingLoss(), window),
            candidate.validationLoss(),
            candidate.validationAccuracy(),
            mean(candidate.trainingLoss(), window),
            new ReferenceComparison.Thresholds(t.maxAccuracyDrop(), t.maxRelativeLossGap()));
    return new Result(
        reference,
        candidate,
        g.accuracyDropPoints(),
        g.validationLossGap(),
        g.trainingLossGap(),
        window.size(),
        window.get(0),
        window.get(window.size() - 1),
        g.exceeded());
  }

  private static double mean(Map<Long, Double> losses, List<Long> steps) {
    return steps.stream().mapToDouble(losses::get).average().orElse(Double.NaN);
  }
}
