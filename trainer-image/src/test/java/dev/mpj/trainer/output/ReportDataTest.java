package dev.mpj.trainer.output;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rank 0's report data beside the checkpoints, over two attempts of a run. */
class ReportDataTest {
  @TempDir Path dir;

  @Test
  void eachAttemptAppendsItsLinesAndTheNewestSummaryWins() throws Exception {
    Path checkpoints = dir.resolve("checkpoints");
    Path first = Files.createDirectories(dir.resolve("attempt-1"));
    Files.writeString(first.resolve("metrics.jsonl"), "{\"step\":1}\n{\"step\":2}\n");
    assertThat(ReportData.publish(first, checkpoints)).isEmpty();

    Path second = Files.createDirectories(dir.resolve("attempt-2"));
    Files.writeString(second.resolve("metrics.jsonl"), "{\"step\":2}\n{\"step\":3}\n");
    Files.writeString(second.resolve("summary.json"), "{\"steps\":3}");
    Files.writeString(second.resolve("reference-parity.json"), "{\"step\":3}");
    assertThat(ReportData.publish(second, checkpoints)).isEmpty();

    Path report = checkpoints.resolve("report");
    assertThat(Files.readAllLines(report.resolve("metrics.jsonl")))
        .containsExactly("{\"step\":1}", "{\"step\":2}", "{\"step\":2}", "{\"step\":3}");
    assertThat(Files.readString(report.resolve("summary.json"))).isEqualTo("{\"steps\":3}");
    assertThat(report.resolve("reference-parity.json")).exists();
  }

  @Test
  void anAttemptThatWroteNoMetricsLeavesNothing() {
    assertThat(ReportData.publish(dir.resolve("empty"), dir.resolve("checkpoints"))).isEmpty();
    assertThat(dir.resolve("checkpoints")).doesNotExist();
  }

  @Test
  void aVolumeItCannotWriteIsReportedNotThrown() throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve("metrics.jsonl"), "{\"step\":1}\n");
    Path notAFolder = Files.writeString(dir.resolve("file"), "x");
    assertThat(ReportData.publish(out, notAFolder)).get().asString().contains("report data");
  }
}
