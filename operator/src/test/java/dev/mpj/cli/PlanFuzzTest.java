package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.fuzz.ManifestMutations;
import dev.mpj.api.fuzz.ManifestMutations.MutatedJob;
import dev.mpj.api.validation.Violation;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Fuzzed manifests through {@code mpj plan}, in-process: an invalid job exits 2 with a message
 * naming every violated field and writes nothing; a valid one is planned (0 or 1) or refused for
 * missing data shape (2); never a stack trace.
 */
class PlanFuzzTest {

  /** 200 mutated jobs from seed 18: the same jobs in every run. */
  @Test
  void planRefusesInvalidJobsByFieldAndNeverCrashes() throws Exception {
    for (MutatedJob mutated : ManifestMutations.mutatedJobs(18, 200)) {
      check(mutated);
    }
  }

  private void check(MutatedJob mutated) throws IOException {
    Path dir = Files.createTempDirectory("plan-fuzz");
    try {
      Path file = dir.resolve("job.yaml");
      Files.writeString(file, mutated.yaml());
      for (String format : List.of("table", "json")) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = MpjCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("plan", "-f", file.toString(), "-o", format);
        String said = out + "\n" + err;
        assertThat(said).as("%s: no stack trace", mutated).doesNotContain("\tat ", "Exception");
        List<Violation> violations = ManifestMutations.violations(mutated.yaml());
        if (violations != null) {
          assertThat(code).as("%s: %s", mutated, err).isEqualTo(MpjCommand.EXIT_BAD_INPUT);
          assertThat(err.toString()).contains("plan: invalid job");
          for (Violation v : violations) {
            assertThat(err.toString()).as("%s", mutated).contains(v.field());
          }
        } else {
          assertThat(code).as("%s: %s", mutated, err).isIn(0, 1, MpjCommand.EXIT_BAD_INPUT);
        }
        try (Stream<Path> files = Files.list(dir)) {
          assertThat(files).as("%s: nothing written", mutated).containsExactly(file);
        }
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
  }
}
