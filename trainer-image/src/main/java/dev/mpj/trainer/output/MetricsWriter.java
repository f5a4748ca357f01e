package dev.mpj.trainer.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.trainer.loop.ParityCheck;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/** Writes metrics.jsonl: one JSON object per optimizer step attempt, flushed as it happens. */
public final class MetricsWriter implements TrainingListener, AutoCloseable {
  public static final String FILE = "metrics.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;
  private final List<LongFunction<Map<String, Object>>> sections = new ArrayList<>();

  /** A fresh metrics.jsonl (an existing one is replaced). */
  public MetricsWriter(Path folder) throws IOException {
    out =
        Files.newBufferedWriter(
            folder.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private MetricsWriter(BufferedWriter out) {
    this.out = out;
  }

  /**
   * The metrics.jsonl of a run resumed after {@code resumedFromStep} (null: a fresh run). The lines
   * an interrupted run wrote after that step are dropped (the file is rewritten to a temporary name
   * and renamed), so each step appears once, with the values of the run that kept it.
   */
  public static MetricsWriter continuing(Path folder, Long resumedFromStep) throws IOException {
    Path file = folder.resolve(FILE);
    if (resumedFromStep == null || !Files.exists(file)) {
      return new MetricsWriter(folder);
    }
    List<String> kept = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        if (JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= resumedFromStep) {
          kept.add(line);
        }
      } catch (IOException e) {
        // a line cut short by a kill: dropped
      }
    }
    Path temporary = folder.resolve(FILE + ".tmp");
    Files.write(temporary, kept);
    Files.move(
        temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return new MetricsWriter(Files.newBufferedWriter(file, StandardOpenOption.APPEND));
  }

  /**
   * Adds the fields {@code section} gives for a step to that step's line (e.g. the checkpoint
   * written).
   */
  public void addSection(LongFunction<Map<String, Object>> section) {
    sections.add(section);
  }

  @Override
  public void onStep(StepResult s) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("step", s.step());
    line.put("loss", finite(s.loss()));
    line.put("lossScale", s.lossScale());
    line.put("overflow", s.overflow());
    line.put("skipped", s.overflow());
    line.put("gradNorm", s.gradNorm() == null ? null : finite(s.gradNorm()));
    line.put("samplesPerSecond", s.samplesPerSecond());
    line.put("microBatch", s.microBatch());
    line.put("accumulation", s.accumulation());
    if (s.parity() != null) {
      line.put("parity", parity(s.parity()));
    }
    for (LongFunction<Map<String, Object>> section : sections) {
      line.putAll(section.apply(s.step()));
    }
    try {
      out.write(JSON.writeValueAsString(line));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, Object> parity(ParityCheck p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("step", p.step());
    m.put("fp16Loss", finite(p.fp16Loss()));
    m.put("fp32Loss", finite(p.fp32Loss()));
    m.put("relativeGap", finite(p.relativeGap()));
    m.put("withinBound", p.withinBound());
    return m;
  }

  /** JSON has no inf or NaN: those are written as null. */
  static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
