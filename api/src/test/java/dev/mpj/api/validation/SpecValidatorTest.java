package dev.mpj.api.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.CheckpointSize;
import dev.mpj.api.CheckpointSpec;
import dev.mpj.api.DataSpec;
import dev.mpj.api.GangScheduler;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.RunPolicySpec;
import dev.mpj.api.SchedulingPolicySpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpecValidatorTest {

  private static final String VALID =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: digits-mlp}
      spec:
        precision: fp16-mixed
        model: {architecture: mlp, mlp: {hiddenSizes: [64, 64]}}
        data: {source: synthetic, synthetic: {task: classification, samples: 1024, features: 16, classes: 4}}
        training: {globalBatchSize: 32, steps: 10}
      """;

  /**
   * The MLP of VALID has 16*64+64 + 64*64+64 + 64*4+4 = 5,508 parameters: with Adam rank 0's
   * snapshot is 12 bytes each, 66,096 bytes; with SGD and momentum 8, without momentum 4. The
   * trainer image's JVM gets half the pod's memory for its heap, and as much direct memory, where
   * the snapshot lives: the pod needs more than twice the snapshot.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{}|132192|false",
        "{}|132194|true",
        "{type: sgd, momentum: 0.9}|88128|false",
        "{type: sgd, momentum: 0.9}|88130|true",
        "{type: sgd}|44064|false",
        "{type: sgd}|44066|true",
      })
  void aReplicasMemoryMustHoldTheCheckpointSnapshot(
      String optimizer, long memory, boolean accepted) {
    List<Violation> violations = SpecValidator.validate(withMemory(optimizer, memory, ""));
    if (accepted) {
      assertThat(violations).isEmpty();
    } else {
      assertThat(violations)
          .singleElement()
          .satisfies(
              v -> {
                assertThat(v.field()).isEqualTo("spec.resources.memory");
                assertThat(v.message())
                    .contains("checkpoint snapshot")
                    .contains("5,508 parameters")
                    .contains("the first checkpoint would fail")
                    .contains("MPJ_TRAINER_JAVA_OPTS");
              });
    }
  }

  @Test
  void aTemplateThatSetsTheTrainersJavaOptionsTakesTheSnapshotsMemoryOver() {
    String env =
        "  template: {env: [{name: MPJ_TRAINER_JAVA_OPTS, value: \"-XX:MaxDirectMemorySize=1g\"}]}\n";
    assertThat(SpecValidator.validate(withMemory("{}", 1000, ""))).isNotEmpty();
    assertThat(SpecValidator.validate(withMemory("{}", 1000, env))).isEmpty();
  }

  @Test
  void theSnapshotRuleReadsTheTrainerImagesHeapShare() throws IOException {
    Path launcher =
        Path.of("")
            .toAbsolutePath()
            .getParent()
            .resolve("trainer-image/src/main/docker/mpj-trainer");
    assertThat(Files.readString(launcher))
        .contains(
            "-XX:MaxRAMPercentage="
                + Math.round(CheckpointSize.TRAINER_HEAP_SHARE_OF_POD * 100)
                + " ")
        .doesNotContain("MaxDirectMemorySize");
  }

  private static MixedPrecisionJob withMemory(String optimizer, long memory, String more) {
    return JobFiles.parse(
        VALID.replace(
                "training: {globalBatchSize: 32, steps: 10}",
                "training: {globalBatchSize: 32, steps: 10, optimizer: " + optimizer + "}")
            + "  resources: {memory: \""
            + memory
            + "\"}\n"
            + more);
  }

  @Test
  void aValidJobHasNoViolations() {
    assertThat(SpecValidator.validate(JobFiles.parse(VALID))).isEmpty();
  }

  @Test
  void negativeBatchSizeNamesTheField() {
    assertThat(violations(job -> job.getSpec().training.globalBatchSize = -4))
        .containsExactly(
            new Violation("spec.training.globalBatchSize", "must be at least 1 (got -4)"));
  }

  @Test
  void unknownPrecisionIsRefusedWhileParsingWithTheAllowedValues() {
    assertThatThrownBy(
            () -> JobFiles.parse(VALID.replace("precision: fp16-mixed", "precision: fp8")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e -> {
              assertThat(e.violations()).hasSize(1);
              assertThat(e.violations().get(0).field()).isEqualTo("spec.precision");
              assertThat(e.violations().get(0).message())
                  .contains("fp8")
                  .contains("fp32")
                  .contains("fp16-mixed");
            });
  }

  @Test
  void missingModelNamesTheField() {
    assertThat(violations(job -> job.getSpec().model = null))
        .extracting(Violation::field)
        .containsExactly("spec.model");
  }

  @Test
  void bf16IsRefusedWithTheReason() {
    List<Violation> v = violations(job -> job.getSpec().precision = Precision.BF16_MIXED);
    assertThat(v).extracting(Violation::field).containsExactly("spec.precision");
    assertThat(v.get(0).message()).contains("no BF16");
  }

  @Test
  void everyViolationIsReportedNotOnlyTheFirst() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().training.globalBatchSize = 0;
              job.getSpec().replicas.min = 4;
              job.getSpec().replicas.max = 2;
              job.getSpec().lossScaling.backoffFactor = 1.5;
            });
    assertThat(v)
        .extracting(Violation::field)
        .containsExactlyInAnyOrder(
            "spec.training.globalBatchSize", "spec.replicas.min", "spec.lossScaling.backoffFactor");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "training: {globalBatchSize: 32, steps: 10}|training: {globalBatchSize: 32}|spec.training.steps",
        "hiddenSizes: [64, 64]|hiddenSizes: [64, 0]|spec.model.mlp.hiddenSizes[1]",
        "features: 16, classes: 4|features: 16, classes: 1|spec.data.synthetic.classes",
        "source: synthetic, synthetic:|source: csv, synthetic:|spec.data.csv",
      })
  void badManifestsNameTheirField(String from, String to, String field) {
    MixedPrecisionJob job = JobFiles.parse(VALID.replace(from, to));
    assertThat(SpecValidator.validate(job)).extracting(Violation::field).contains(field);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "mlp|csv: {path: d.csv, task: sequence}|spec.data.csv.task|token sequences come in an npz",
        "mlp|npz: {path: d.npz, task: sequence}|spec.data.npz.task|needs model.architecture transformer",
        "mlp|csv: {path: d.csv, task: regression, classes: 3}|spec.data.csv.classes|is for classification, but the task is regression",
        "mlp|npz: {path: d.npz, classes: 1}|spec.data.npz.classes|must be at least 2",
        "transformer|npz: {path: d.npz, task: classification}|spec.data.npz.task|set task: sequence",
        "transformer|npz: {path: d.npz, classes: 4}|spec.data.npz.classes|the task is sequence",
        "transformer|csv: {path: d.csv}|spec.data.source|use synthetic (task: sequence) or npz",
      })
  void theTaskOfAFileMustFitTheModel(
      String architecture, String file, String field, String message) {
    List<Violation> v = SpecValidator.validate(fileJob(architecture, file));
    assertThat(v).extracting(Violation::field).containsExactly(field);
    assertThat(v.get(0).message()).contains(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "mlp|csv: {path: d.csv}",
        "mlp|csv: {path: d.csv, task: regression}",
        "mlp|npz: {path: d.npz, task: classification, classes: 10}",
        "transformer|npz: {path: d.npz}",
        "transformer|npz: {path: d.npz, task: sequence}",
      })
  void statedOrDefaultTasksThatFitTheModelAreValid(String architecture, String file) {
    assertThat(SpecValidator.validate(fileJob(architecture, file))).isEmpty();
  }

  private static MixedPrecisionJob fileJob(String architecture, String file) {
    String source = file.substring(0, file.indexOf(':'));
    String model =
        architecture.equals("mlp")
            ? "{architecture: mlp, mlp: {hiddenSizes: [64, 64]}}"
            : "{architecture: transformer, transformer: {layers: 1, hiddenSize: 16, heads: 2}}";
    return JobFiles.parse(
        VALID
            .replace("{architecture: mlp, mlp: {hiddenSizes: [64, 64]}}", model)
            .replace(
                "{source: synthetic, synthetic: {task: classification, samples: 1024, features: 16,"
                    + " classes: 4}}",
                "{source: " + source + ", " + file + "}"));
  }

  @Test
  void transformerHiddenSizeMustDivideByHeads() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().model.architecture = ModelSpec.Architecture.TRANSFORMER;
              job.getSpec().model.mlp = null;
              job.getSpec().model.transformer = new ModelSpec.Transformer();
              job.getSpec().model.transformer.hiddenSize = 130;
              job.getSpec().data.synthetic.task = DataSpec.Task.SEQUENCE;
            });
    assertThat(v).extracting(Violation::field).containsExactly("spec.model.transformer.hiddenSize");
  }

  @Test
  void checkpointVolumeNeedsExactlyOneOfSizeAndClaim() {
    List<Violation> v =
        violations(job -> job.getSpec().checkpoint.volume = new CheckpointSpec.Volume());
    assertThat(v).extracting(Violation::field).containsExactly("spec.checkpoint.volume");
  }

  @Test
  void globalBatchMustGiveEveryReplicaASample() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().training.globalBatchSize = 2;
              job.getSpec().replicas.min = 3;
              job.getSpec().replicas.max = 3;
            });
    assertThat(v).extracting(Violation::field).containsExactly("spec.training.globalBatchSize");
  }

  @Test
  void syntheticCnnNeedsASquareOrAnImageShape() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().model.architecture = ModelSpec.Architecture.CNN;
              job.getSpec().model.mlp = null;
              job.getSpec().data.synthetic.features = 15;
            });
    assertThat(v).extracting(Violation::field).containsExactly("spec.data.imageShape");
    assertThat(
            violations(
                job -> {
                  job.getSpec().model.architecture = ModelSpec.Architecture.CNN;
                  job.getSpec().model.mlp = null;
                  job.getSpec().data.synthetic.features = 16;
                }))
        .isEmpty();
  }

  @Test
  void parityNeedsMixedPrecision() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().precision = Precision.FP32;
              job.getSpec().parity = new ParitySpec();
            });
    assertThat(v).extracting(Violation::field).containsExactly("spec.parity");
  }

  @Test
  void theWorkingWeightsCheckKeepsItsEarlierFieldsAsDeprecatedAliases() {
    MixedPrecisionJob legacy = JobFiles.parse(VALID);
    legacy.getSpec().parity = new ParitySpec();
    legacy.getSpec().parity.maxRelativeGap = 0.5;
    legacy.getSpec().parity.action = ParitySpec.Action.FAIL;
    assertThat(SpecValidator.validate(legacy)).isEmpty();
    ParitySpec.WorkingWeights w = legacy.getSpec().parity.workingWeightsCheck();
    assertThat(w.maxRelativeGap).isEqualTo(0.5);
    assertThat(w.action).isEqualTo(ParitySpec.Action.FAIL);
    assertThat(w.intervalSteps).as("the default").isEqualTo(100);
    assertThat(legacy.getSpec().parity.workingWeightsField("maxRelativeGap"))
        .isEqualTo("spec.parity.maxRelativeGap");

    ParitySpec onlyReference = new ParitySpec();
    onlyReference.reference = new ParitySpec.Reference();
    onlyReference.reference.steps = 5;
    assertThat(onlyReference.workingWeightsCheck())
        .as("with reference and no working-weights field the check is off")
        .isNull();
    assertThat(new ParitySpec().workingWeightsCheck())
        .as("an earlier-form spec.parity without fields checked with the defaults, as before")
        .isNotNull();

    List<Violation> both =
        violations(
            job -> {
              job.getSpec().parity = new ParitySpec();
              job.getSpec().parity.workingWeights = new ParitySpec.WorkingWeights();
              job.getSpec().parity.intervalSteps = 10;
            });
    assertThat(both)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.parity.intervalSteps");
              assertThat(v.message()).contains("deprecated alias of spec.parity.workingWeights");
            });
  }

  @Test
  void referenceParityNamesItsBadFields() {
    List<Violation> v =
        violations(
            job -> {
              job.getSpec().parity = new ParitySpec();
              job.getSpec().parity.reference = new ParitySpec.Reference();
              job.getSpec().parity.reference.steps = 11;
              job.getSpec().parity.reference.maxAccuracyDrop = -1;
            });
    assertThat(v)
        .extracting(Violation::field)
        .containsExactlyInAnyOrder(
            "spec.parity.reference.steps", "spec.parity.reference.maxAccuracyDrop");
    assertThat(
            violations(
                job -> {
                  job.getSpec().precision = Precision.FP32;
                  job.getSpec().parity = new ParitySpec();
                  job.getSpec().parity.reference = new ParitySpec.Reference();
                  job.getSpec().parity.reference.steps = 5;
                }))
        .extracting(Violation::field)
        .containsExactly("spec.parity.reference");
  }

  @Test
  void besideIsAcceptedAloneAndRefusedWhereOneGangPerJobIsAssumed() {
    Consumer<MixedPrecisionJob> beside =
        job -> {
          job.getSpec().parity = new ParitySpec();
          job.getSpec().parity.reference = new ParitySpec.Reference();
          job.getSpec().parity.reference.steps = 5;
          job.getSpec().parity.reference.schedule = ParitySpec.Schedule.BESIDE;
        };
    assertThat(violations(beside)).isEmpty();
    List<Violation> queued =
        violations(
            beside.andThen(
                job -> job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a"))));
    assertThat(queued)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.parity.reference.schedule");
              assertThat(v.message()).contains("team-a", "kueue.x-k8s.io/queue-name", "use before");
            });
    List<Violation> gangScheduled =
        violations(
            beside.andThen(
                job -> {
                  job.getSpec().runPolicy = new RunPolicySpec();
                  job.getSpec().runPolicy.schedulingPolicy = new SchedulingPolicySpec();
                  job.getSpec().runPolicy.schedulingPolicy.scheduler = GangScheduler.values()[0];
                }));
    assertThat(gangScheduled)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.parity.reference.schedule");
              assertThat(v.message()).contains("spec.runPolicy.schedulingPolicy");
            });
    assertThat(
            violations(
                job -> job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a"))))
        .as("a queue alone, or with schedule before, is fine")
        .isEmpty();
  }

  @Test
  void badQuantityNamesTheField() {
    List<Violation> v =
        violations(job -> job.getSpec().resources.gpuMemory = new Quantity("-16Gi"));
    assertThat(v).extracting(Violation::field).containsExactly("spec.resources.gpuMemory");
  }

  @Test
  void aJobNameAnApiServerWouldRefuseIsRefusedNamingTheField() {
    assertThat(violations(job -> job.getMetadata().setName("Digits_MLP")))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("metadata.name");
              assertThat(v.message()).startsWith("a lowercase RFC 1123 subdomain");
            });
    assertThat(violations(job -> job.getMetadata().setName("a".repeat(254))))
        .containsExactly(new Violation("metadata.name", "must be no more than 253 characters"));
    assertThat(violations(job -> job.getMetadata().setName("1.train." + "a".repeat(245))))
        .isEmpty();
  }

  @Test
  void podTemplateLabelsTheApiServerWouldRefuseAreRefused() {
    assertThat(
            violations(
                job -> {
                  job.getSpec().template = new dev.mpj.api.PodTemplateOverlay();
                  job.getSpec().template.labels = java.util.Map.of("team", "a".repeat(64));
                }))
        .containsExactly(
            new Violation("spec.template.labels[team]", "must be no more than 63 characters"));
  }

  private static List<Violation> violations(Consumer<MixedPrecisionJob> change) {
    MixedPrecisionJob job = JobFiles.parse(VALID);
    change.accept(job);
    return SpecValidator.validate(job);
  }
}
