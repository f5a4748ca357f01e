package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.validation.SpecValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example job is valid for the API server's schema and for the spec validator. */
class ExamplesTest {

  private static CrdSchema schema;

  @BeforeAll
  static void loadSchema() throws IOException {
    schema = CrdSchema.ofCommittedCrd();
  }

  static Stream<Path> examples() {
    return TestManifests.examples().stream();
  }

  @Test
  void theExamplesTheDocsPromiseExist() {
    assertThat(TestManifests.examples())
        .extracting(p -> p.getFileName().toString())
        .contains(
            "quickstart.yaml",
            "quickstart-fp32.yaml",
            "transformer-multi-replica.yaml",
            // the fleet of docs/operations/capacity-planning.md
            "resnet-cnn.yaml",
            "gpt2-small.yaml",
            "transformer-1b.yaml",
            "tabular-mlp.yaml");
  }

  @ParameterizedTest
  @MethodSource("examples")
  void exampleMatchesTheCrdSchema(Path example) throws IOException {
    assertThat(schema.validate(Files.readString(example))).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("examples")
  void examplePassesTheSpecValidator(Path example) {
    assertThat(SpecValidator.validate(JobFiles.read(example))).isEmpty();
  }

  @Test
  void schemaRefusesWhatTheApiServerWould() throws IOException {
    List<String> negativeBatch =
        schema.validate(
            TestManifests.VALID_JOB.replace("globalBatchSize: 32", "globalBatchSize: -4"));
    assertThat(negativeBatch).anySatisfy(e -> assertThat(e).contains("globalBatchSize"));

    List<String> unknownPrecision =
        schema.validate(TestManifests.VALID_JOB.replace("precision: fp16-mixed", "precision: fp8"));
    assertThat(unknownPrecision).anySatisfy(e -> assertThat(e).contains("precision"));

    List<String> missingModel =
        schema.validate(
            TestManifests.VALID_JOB.replace(
                "  model:\n    architecture: mlp\n    mlp: {hiddenSizes: [64, 64], activation: relu}\n",
                ""));
    assertThat(missingModel).anySatisfy(e -> assertThat(e).contains("model"));

    List<String> unknownField =
        schema.validate(TestManifests.VALID_JOB.replace("steps: 10", "steps: 10\n    stpes: 3"));
    assertThat(unknownField).anySatisfy(e -> assertThat(e).contains("stpes"));
  }
}
