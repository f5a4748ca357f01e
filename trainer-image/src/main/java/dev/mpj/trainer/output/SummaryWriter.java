package dev.mpj.trainer.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mpj.trainer.loop.RunSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes summary.json at the end of a run (to a temporary name, then renamed into place). */
public final class SummaryWriter {
  public static final String FILE = "summary.json";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private SummaryWriter() {}

  public static void write(Path folder, RunSummary s) throws IOException {
    write(folder, s, Map.of());
  }

  /** With further top-level sections (e.g. {@code checkpoints}). */
  public static void write(Path folder, RunSummary s, Map<String, Object> sections)
      throws IOException {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("precision", s.precision());
    summary.put("steps", s.steps());
    summary.put("skippedSteps", s.skippedSteps());
    summary.put("finalLossScale", s.finalLossScale());
    summary.put("trainLoss", MetricsWriter.finite(s.trainLoss()));
    Map<String, Object> validation = new LinkedHashMap<>();
    validation.put("loss", MetricsWriter.finite(s.validation().loss()));
    validation.put("accuracy", s.validation().accuracy());
    summary.put("validation", validation);
    summary.put("parameters", s.parameters());
    summary.put("peakRssBytes", s.peakRssBytes());
    summary.put("rssBeforeTrainingBytes", s.rssBeforeTrainingBytes());
    summary.put("peakRssTrainingBytes", s.peakRssTrainingBytes());
    summary.put("peakRssFirstStepBytes", s.firstStep().peakBytes());
    summary.put("fileRssAddedFirstStepBytes", s.firstStep().fileBytesAdded());
    summary.put("rssAfterFirstStepBytes", s.firstStep().rssAfterBytes());
    summary.put("peakRssLaterStepsBytes", s.firstStep().laterPeakBytes());
    summary.put("fileRssAddedLaterStepsBytes", s.firstStep().laterFileBytesAdded());
    summary.put("wallSeconds", s.wallSeconds());
    summary.put("resumedFromStep", s.resumedFromStep());
    summary.put("parity", s.parity() == null ? null : MetricsWriter.parity(s.parity()));
    summary.putAll(sections);
    Path temporary = folder.resolve(FILE + ".tmp");
    Files.write(temporary, JSON.writeValueAsBytes(summary));
    Files.move(
        temporary,
        folder.resolve(FILE),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }
}
