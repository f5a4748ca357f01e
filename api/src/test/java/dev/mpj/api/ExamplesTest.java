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
            "tabular-mlp.yaml",
            // data on a volume (spec.template.volumes), docs/concepts/data.md
            "digits-csv-pvc.yaml");
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

  /**
   * An example runs as written on a cluster that has what its opening comment names: no image that
   * exists nowhere (jobs without spec.image run the operator's configured trainer image), and no
   * PriorityClass or Kueue queue that the comment does not tell the reader to create.
   */
  @ParameterizedTest
  @MethodSource("examples")
  void exampleNeedsNothingItsCommentDoesNotName(Path example) throws IOException {
    String text = Files.readString(example);
    String comment =
        text.lines().takeWhile(l -> l.startsWith("#")).reduce("", (a, l) -> a + l + "\n");
    MixedPrecisionJob job = JobFiles.read(example);
    if (job.getSpec().image != null) {
      assertThat(job.getSpec().image)
          .as("%s: spec.image must name its registry", example)
          .matches("[a-z0-9.-]+\\.[a-z]+(:[0-9]+)?/.+");
    }
    if (job.getSpec().template != null && job.getSpec().template.priorityClassName != null) {
      assertThat(comment)
          .as("%s: the PriorityClass must exist first", example)
          .contains("PriorityClass " + job.getSpec().template.priorityClassName);
    }
    DataSpec data = job.getSpec().data;
    String file =
        data.source == DataSpec.Source.CSV
            ? data.csv.path
            : data.source == DataSpec.Source.NPZ ? data.npz.path : null;
    if (file != null) {
      // The trainer image holds no data: the file lies on a volume of the template, and a claim
      // is one the comment tells the reader to create.
      var template = job.getSpec().template;
      assertThat(template == null ? null : template.volumeMounts)
          .as("%s: %s must lie on a volume of spec.template", example, file)
          .isNotNull()
          .anySatisfy(m -> assertThat(file).startsWith(m.getMountPath() + "/"));
      for (var volume : template.volumes) {
        if (volume.getPersistentVolumeClaim() != null) {
          String claim = volume.getPersistentVolumeClaim().getClaimName();
          assertThat(comment)
              .as("%s: the claim %s must exist first", example, claim)
              .contains("PersistentVolumeClaim " + claim);
        }
      }
    }
    var labels = job.getMetadata().getLabels();
    if (labels != null && labels.keySet().stream().anyMatch(k -> k.startsWith("kueue.x-k8s.io"))) {
      assertThat(comment).as("%s: a Kueue queue label needs Kueue", example).contains("Kueue");
    }
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

    // What the spec validator refuses, refused at admission too: the bounds are exclusive.
    List<String> noGrowth =
        schema.validate(TestManifests.VALID_JOB + "  lossScaling: {growthFactor: 1.0}\n");
    assertThat(noGrowth).anySatisfy(e -> assertThat(e).contains("growthFactor"));
    List<String> noBackoff =
        schema.validate(TestManifests.VALID_JOB + "  lossScaling: {backoffFactor: 1.0}\n");
    assertThat(noBackoff).anySatisfy(e -> assertThat(e).contains("backoffFactor"));
    List<String> betaOne =
        schema.validate(
            TestManifests.VALID_JOB.replace(
                "steps: 10", "steps: 10\n    optimizer: {type: adam, beta2: 1.0}"));
    assertThat(betaOne).anySatisfy(e -> assertThat(e).contains("beta2"));
    List<String> dropoutOne =
        schema.validate(
            TestManifests.VALID_JOB.replace(
                "activation: relu}", "activation: relu, dropout: 1.0}"));
    assertThat(dropoutOne).anySatisfy(e -> assertThat(e).contains("dropout"));
    assertThat(
            schema.validate(
                TestManifests.VALID_JOB
                    + "  lossScaling: {growthFactor: 1.5, backoffFactor: 0.25}\n"))
        .isEmpty();

    List<String> unknownField =
        schema.validate(TestManifests.VALID_JOB.replace("steps: 10", "steps: 10\n    stpes: 3"));
    assertThat(unknownField).anySatisfy(e -> assertThat(e).contains("stpes"));
  }
}
