package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mpj.api.JobFiles;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.fuzz.ManifestMutations;
import dev.mpj.api.fuzz.ManifestMutations.MutatedJob;
import dev.mpj.api.validation.Violation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Fuzzed manifests through the trainer's readers, in-process: {@code mpj-trainer train -f JOB} and
 * {@code --config} (the job's spec in the operator's TrainerConfig). An invalid job exits 2 naming
 * every violated field, with no stack trace and no output folder. Valid jobs are not trained here
 * (that is what the trainer's other tests do).
 */
class TrainerConfigFuzzTest {

  /** 150 mutated jobs from seed 18: the same jobs in every run. */
  @Test
  void invalidJobsExit2ByFieldAndWriteNothing() throws Exception {
    for (MutatedJob mutated : ManifestMutations.mutatedJobs(18, 150)) {
      check(mutated);
    }
  }

  private void check(MutatedJob mutated) throws IOException {
    List<Violation> violations = ManifestMutations.violations(mutated.yaml());
    if (violations == null) {
      return;
    }
    Path dir = Files.createTempDirectory("trainer-fuzz");
    try {
      Path job = dir.resolve("job.yaml");
      Files.writeString(job, mutated.yaml());
      Path output = dir.resolve("out");
      Run run = train("-f", job.toString(), "--output", output.toString());
      assertThat(run.code)
          .as("%s: %s", mutated, run.err)
          .isEqualTo(TrainerContract.EXIT_BAD_CONFIG);
      assertThat(run.err).as("%s", mutated).doesNotContain("\tat ", "Exception");
      for (Violation v : violations) {
        assertThat(run.err).as("%s", mutated).contains(v.field());
      }
      assertThat(output).as("%s: no output folder", mutated).doesNotExist();

      // The same spec as the operator would render it; only spec.* violations carry over.
      JsonNode tree = JobFiles.yamlMapper().readTree(mutated.yaml());
      if (!(tree.get("spec") instanceof ObjectNode spec)) {
        return;
      }
      ObjectNode config = JobFiles.yamlMapper().createObjectNode();
      config.put("apiVersion", TrainerConfig.API_VERSION);
      config.put("kind", TrainerConfig.KIND);
      config.put("jobName", "fuzzed");
      config.set("spec", spec);
      config.put("replicas", 1);
      config.put("microBatch", 8);
      config.put("gradientAccumulation", 1);
      Path configFile = dir.resolve("config.yaml");
      Files.writeString(configFile, JobFiles.toYaml(config));
      Run fromConfig = train("--config", configFile.toString(), "--output", output.toString());
      assertThat(fromConfig.err).as("%s", mutated).doesNotContain("\tat ", "Exception");
      List<Violation> specViolations =
          violations.stream().filter(v -> v.field().startsWith("spec.")).toList();
      if (!specViolations.isEmpty()) {
        assertThat(fromConfig.code)
            .as("%s: %s", mutated, fromConfig.err)
            .isEqualTo(TrainerContract.EXIT_BAD_CONFIG);
        assertThat(specViolations)
            .as("%s: %s", mutated, fromConfig.err)
            .anySatisfy(v -> assertThat(fromConfig.err).contains(v.field()));
        assertThat(output).as("%s: no output folder", mutated).doesNotExist();
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
  }

  private record Run(int code, String err) {}

  private static Run train(String... args) {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    int code;
    try {
      String[] all = new String[args.length + 1];
      all[0] = "train";
      System.arraycopy(args, 0, all, 1, args.length);
      code = TrainerCommand.commandLine().execute(all);
    } finally {
      System.setErr(original);
    }
    return new Run(code, captured.toString(StandardCharsets.UTF_8));
  }
}
