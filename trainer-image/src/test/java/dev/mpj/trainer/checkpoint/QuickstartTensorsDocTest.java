package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The tensor table in docs/concepts/checkpoints.md is what the quick-start's model.safetensors
 * holds.
 */
class QuickstartTensorsDocTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| (\\[[0-9, ]+\\]) \\|");

  @Test
  void theDocumentedNamesAndShapesAreTheQuickstartModelsTensors() throws IOException {
    List<String> documented = new ArrayList<>();
    for (String line : Files.readAllLines(ROOT.resolve("docs/concepts/checkpoints.md"))) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        documented.add(m.group(1) + " " + m.group(2));
      }
    }
    RunConfig config =
        RunConfig.standalone(JobFiles.read(ROOT.resolve("docs/examples/quickstart.yaml")), null);
    Dataset all = DataSource.load(config.spec());
    List<String> actual = new ArrayList<>();
    try (TrainingSession session = new TrainingSession(config, DataSplit.of(all, 0.2, 0))) {
      for (SafetensorsFile.Entry t : Snapshot.of(session, "hash").model().entries()) {
        actual.add(t.name() + " " + Arrays.toString(t.shape()));
      }
    }
    assertThat(documented).isNotEmpty().isEqualTo(actual);
  }
}
