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
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes metrics.jsonl: one JSON object per optimizer step attempt, flushed as it happens. */
public final class MetricsWriter implements TrainingListener, AutoCloseable {
  public static final String FILE = "metrics.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;

  public MetricsWriter(Path folder) throws IOException {
    out = Files.newBufferedWriter(folder.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  @Override
  public void onStep(StepResult s) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("step", s.step());
    line.put("loss", finite(s.loss()));
    line.put("lossScale", s.lossScale());
    line.put("overflow", s.overflow());
    line.put("skipped", s.skipped());
    line.put("gradNorm", s.gradNorm() == null ? null : finite(s.gradNorm()));
    line.put("samplesPerSecond", s.samplesPerSecond());
    line.put("microBatch", s.microBatch());
    line.put("accumulation", s.accumulation());
    if (s.parity() != null) {
      line.put("parity", parity(s.parity()));
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
