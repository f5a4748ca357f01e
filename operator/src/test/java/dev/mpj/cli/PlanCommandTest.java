package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PlanCommandTest {

  private static final Path TRANSFORMER_EXAMPLE =
      Path.of("..", "docs", "examples", "transformer-multi-replica.yaml");

  @TempDir Path dir;

  @Test
  void tableShowsBothPrecisionsSideBySide() {
    Run run = mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString());
    assertThat(run.code).isZero();
    // 4 layers, H=256, V=512, S=128: 131,072 + 32,768 + 4 * 789,760 + 512 + 131,584
    assertThat(run.out).contains("Job tiny-lm: transformer, 3,454,976 trainable parameters");
    assertThat(run.out).contains("GPU memory 24.0 GiB (spec)");
    assertThat(run.out).containsPattern("per replica\\s+fp32\\s+fp16-mixed");
    // activations per sample (s=128, h=256, a=8, V=512, 4 layers), bytes at 16 bits: per layer
    // 32*s*h + 2*a*s^2 = 1,048,576 + 262,144; x 4 + final LayerNorm 131,072 = 5,373,952;
    // the loss's FP32 log-softmax 4*s*V = 262,144:
    // FP32 2 * 5,373,952 + 262,144 = 11,010,048; FP16 mixed 5,636,096; and beside them the loss's
    // backward, taken in 8 pieces (s*V = 65,536 logits per sample): FP32 the joined gradient of
    // the logits 4*s*V = 262,144, 11,272,192 (10.8 MiB); FP16 mixed one piece's two FP32
    // gradients 8*s*V/8 = 65,536, 5,701,632 (5.4 MiB)
    assertThat(run.out).containsPattern("activations per sample\\s+10\\.8 MiB\\s+5\\.4 MiB");
    // update temporaries (Adam): the fused kernel's 5 pieces of 2^16 FP32 elements in FP32, 6 in
    // FP16 mixed (with the piece's FP32 gradient), and the joined gradient of the 47,104 grouped
    // small parameters (4 and 2 bytes each): 1,499,136 B (1.4 MiB) and 1,667,072 B (1.6 MiB)
    assertThat(run.out).containsPattern("update temporaries\\s+1\\.4 MiB\\s+1\\.6 MiB");
    assertThat(run.out).containsPattern("fp32 master weights\\s+0 B\\s+13\\.2 MiB");
    assertThat(run.out).contains("fp16-mixed saves 0 GPUs");
    // Adam's checkpoint: 12 bytes per parameter, 41,459,712 B; the trainer image's direct memory
    // is half the pod's, so the pod needs more than twice that, 82,919,424 B (79.1 MiB)
    assertThat(run.out)
        .contains(
            "host memory: rank 0 keeps a 39.5 MiB checkpoint snapshot in the JVM's direct memory;"
                + " a pod needs more than 79.1 MiB (spec.resources.memory: 32Gi).");
    assertThat(run.err).isEmpty();
  }

  @Test
  void jsonForScripts() throws IOException {
    Run run =
        mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString(), "--gpu-memory", "80Gi", "-o", "json");
    assertThat(run.code).isZero();
    JsonNode plan = new ObjectMapper().readTree(run.out);
    assertThat(plan.get("parameters").asLong()).isEqualTo(3_454_976);
    assertThat(plan.get("gpuMemoryBytes").asLong()).isEqualTo(80L << 30);
    assertThat(plan.get("gpuMemorySource").asText()).isEqualTo("flag");
    assertThat(plan.get("fits").asBoolean()).isTrue();
    assertThat(plan.get("gpusSaved").asInt()).isZero();
    for (String precision : new String[] {"fp32", "fp16Mixed"}) {
      JsonNode p = plan.get(precision);
      JsonNode bytes = p.get("bytesPerReplica");
      long parts = 0;
      for (String part :
          new String[] {"weights", "masterWeights", "gradients", "optimizerState", "overhead"}) {
        parts += bytes.get(part).asLong();
      }
      // the activations are freed before the update makes its temporaries: the larger of the two
      long larger =
          Math.max(bytes.get("updateTemporaries").asLong(), bytes.get("activations").asLong());
      assertThat(bytes.get("total").asLong()).isEqualTo(parts + larger);
      // global batch 256 over replicas.min 2, no accumulation
      assertThat(p.get("replicas").asInt()).isEqualTo(2);
      assertThat(p.get("gradientAccumulation").asInt()).isEqualTo(1);
      assertThat(p.get("gpus").asInt()).isEqualTo(2);
    }
    assertThat(plan.at("/fp16Mixed/maxMicroBatch").asInt())
        .isGreaterThan(plan.at("/fp32/maxMicroBatch").asInt());
    // 3,454,976 parameters * 16 bytes (Adam) in both precisions
    assertThat(plan.at("/fp16Mixed/bytesPerReplica/masterWeights").asLong())
        .isEqualTo(3_454_976L * 4);
    assertThat(plan.get("checkpointSnapshotBytes").asLong()).isEqualTo(3_454_976L * 12);
    assertThat(plan.get("leastPodMemoryBytes").asLong()).isEqualTo(3_454_976L * 24);
  }

  @Test
  void theQuickStartFitsAndSaysThatFp16MixedNeedsMoreForASmallModel() {
    Run run = mpj("plan", "-f", Path.of("..", "docs", "examples", "quickstart.yaml").toString());
    assertThat(run.code).isZero();
    // 21,768 parameters (less than one update piece) at micro-batch 32: the update temporaries are
    // larger than the activations (32 * 1,184 and 32 * 608) in both precisions, FP32 5 fused
    // pieces 20 * 21,768 = 435,360 B, FP16 mixed 6 pieces 522,432 B, plus the joined gradient of
    // the grouped parameters (all 21,768, one group): FP32 4 * 21,768 = 87,072 -> 522,432, FP16
    // mixed 2 * 21,768 = 43,536 -> 565,968: 43,536 B (42.5 KiB) more
    assertThat(run.out)
        .contains(
            "fp16-mixed saves 0 GPUs and needs 42.5 KiB more per replica (at micro-batch 32) against fp32.");
  }

  @Test
  void aBadGpuMemoryNamesTheFlag() {
    Run run = mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString(), "--gpu-memory", "eighty");
    assertThat(run.code).isEqualTo(2);
    assertThat(run.err).contains("--gpu-memory").contains("eighty");
    assertThat(run.out).isEmpty();
    Run zero = mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString(), "--gpu-memory", "0");
    assertThat(zero.code).isEqualTo(2);
    assertThat(zero.err).contains("--gpu-memory").contains("must be a positive memory size");
  }

  @Test
  void anUnknownFormatIsBadInput() {
    Run run = mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString(), "-o", "xml");
    assertThat(run.code).isEqualTo(2);
    assertThat(run.err).contains("xml");
  }

  @Test
  void anInvalidJobNamesItsField() throws IOException {
    Path job =
        write(
            "globalBatchSize: 0",
            "data: {source: synthetic, synthetic: {features: 4, classes: 2}}");
    Run run = mpj("plan", "-f", job.toString());
    assertThat(run.code).isEqualTo(2);
    assertThat(run.err).contains("spec.training.globalBatchSize: must be at least 1");
    assertThat(mpj("plan", "-f", dir.resolve("absent.yaml").toString()).code).isEqualTo(2);
  }

  @Test
  void aJobNameNoApiServerAcceptsIsRefusedByPlanAndLocalBeforeAnythingStarts() throws IOException {
    Path job =
        write(
            "globalBatchSize: 8",
            "data: {source: synthetic, synthetic: {features: 4, classes: 2}}");
    Files.writeString(job, Files.readString(job).replace("name: small", "name: Small_Job"));
    for (Run run :
        new Run[] {
          mpj("plan", "-f", job.toString()),
          mpj("local", "-f", job.toString(), "--work-dir", dir.resolve("work").toString())
        }) {
      assertThat(run.code).isEqualTo(2);
      assertThat(run.err).contains("metadata.name: a lowercase RFC 1123 subdomain");
    }
    assertThat(dir.resolve("work")).as("mpj local started nothing").doesNotExist();
  }

  @Test
  void csvDataNeedsItsShapeOnTheCommandLine() throws IOException {
    Path job = write("globalBatchSize: 8", "data: {source: csv, csv: {path: /data/train.csv}}");
    Run missing = mpj("plan", "-f", job.toString());
    assertThat(missing.code).isEqualTo(2);
    assertThat(missing.err)
        .isEqualTo(
            "plan: the mlp needs the data's features and classes, which the spec does not give (data.source csv):"
                + " pass --features N and pass --classes N (or state data.csv.classes)\n");
    Run halfGiven = mpj("plan", "-f", job.toString(), "--features", "5");
    assertThat(halfGiven.code).isEqualTo(2);
    assertThat(halfGiven.err).endsWith(": pass --classes N (or state data.csv.classes)\n");
    // 5 -> 16: 5*16 + 16 = 96; 16 -> 3: 16*3 + 3 = 51
    Run given =
        mpj("plan", "-f", job.toString(), "--features", "5", "--classes", "3", "-o", "json");
    assertThat(given.code).isZero();
    assertThat(given.out).contains("\"parameters\" : 147");
    assertThat(mpj("plan", "-f", job.toString(), "--features", "0", "--classes", "3").code)
        .isEqualTo(2);
  }

  @Test
  void theHeadWidthOfFileDataComesFromTheSpecsTask() throws IOException {
    // 5 -> 16: 96; 16 -> 1: 17
    Path regression =
        write(
            "globalBatchSize: 8",
            "data: {source: npz, npz: {path: /data/train.npz, task: regression}}");
    Run fromTask = mpj("plan", "-f", regression.toString(), "--features", "5", "-o", "json");
    assertThat(fromTask.code).as(fromTask.err).isZero();
    assertThat(fromTask.out).contains("\"parameters\" : 113");
    Run contradicted =
        mpj("plan", "-f", regression.toString(), "--features", "5", "--classes", "3");
    assertThat(contradicted.code).isEqualTo(2);
    assertThat(contradicted.err)
        .isEqualTo(
            "plan: --classes 3 disagrees with the spec, whose head has 1 output"
                + " (data.npz.task: regression)\n");
    // 16 -> 4: 68
    Path stated =
        write(
            "globalBatchSize: 8", "data: {source: csv, csv: {path: /data/train.csv, classes: 4}}");
    Run fromClasses = mpj("plan", "-f", stated.toString(), "--features", "5", "-o", "json");
    assertThat(fromClasses.code).as(fromClasses.err).isZero();
    assertThat(fromClasses.out).contains("\"parameters\" : 164");
  }

  @Test
  void aReferenceBesideTheJobCountsItsFp32GpusOnTopOfTheJobs() throws IOException {
    Path beside = parityJob("beside");
    Run run = mpj("plan", "-f", beside.toString(), "--gpu-memory", "16Gi");
    assertThat(run.code).as(run.err).isZero();
    assertThat(run.out)
        .contains(
            "parity.reference.schedule beside: an FP32 reference gang of 2 GPUs runs beside the"
                + " job for its first 20 steps: 4 GPUs while both run.");
    JsonNode plan =
        new ObjectMapper()
            .readTree(
                mpj("plan", "-f", beside.toString(), "--gpu-memory", "16Gi", "-o", "json").out);
    assertThat(plan.at("/referenceBeside/gpus").asInt()).isEqualTo(plan.at("/fp32/gpus").asInt());
    assertThat(plan.at("/referenceBeside/gpusWhileBothRun").asInt()).isEqualTo(4);
    assertThat(plan.at("/referenceBeside/steps").asInt()).isEqualTo(20);

    Path before = parityJob("before");
    assertThat(mpj("plan", "-f", before.toString(), "--gpu-memory", "16Gi").out)
        .as("a reference before the job runs alone: it adds no GPUs to the job's")
        .doesNotContain("beside");
    assertThat(
            new ObjectMapper()
                .readTree(
                    mpj("plan", "-f", before.toString(), "--gpu-memory", "16Gi", "-o", "json").out)
                .has("referenceBeside"))
        .isFalse();
  }

  private Path parityJob(String schedule) throws IOException {
    Path file = dir.resolve(schedule + ".yaml");
    Files.writeString(
        file,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: parity}
        spec:
          precision: fp16-mixed
          model: {architecture: mlp, mlp: {hiddenSizes: [32]}}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
          training: {globalBatchSize: 64, steps: 30}
          replicas: {min: 2, max: 2}
          parity:
            reference: {steps: 20, windowSteps: 10, maxAccuracyDrop: 2.0, schedule: %s}
        """
            .formatted(schedule));
    return file;
  }

  @Test
  void aJobThatDoesNotFitExitsOneAndSaysWhy() throws IOException {
    Path job =
        write(
            "globalBatchSize: 8",
            "data: {source: synthetic, synthetic: {features: 4, classes: 2}}");
    // the default reserve alone is 1 GiB: nothing fits a GPU of 1 MiB
    Run run = mpj("plan", "-f", job.toString(), "--gpu-memory", "1Mi", "-o", "json");
    assertThat(run.code).isEqualTo(1);
    assertThat(run.out).contains("\"fits\" : false").contains("but a GPU has 1.0 MiB (flag)");
  }

  @Test
  void fewerFreeGpusThanReplicasMinWaits() {
    Run run = mpj("plan", "-f", TRANSFORMER_EXAMPLE.toString(), "--free-gpus", "1");
    assertThat(run.code).isEqualTo(1);
    assertThat(run.out)
        .contains("fp16-mixed: waiting for 2 GPUs (replicas.min 2 x 1 per replica), 1 free");
  }

  @Test
  void theOutputPastedInTheSizingConceptIsWhatPlanPrintsToday() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "concepts", "sizing.md"));
    Matcher block =
        Pattern.compile(
                "```\\n\\$ bin/mpj plan -f (docs/examples/\\S+) --gpu-memory (\\S+)\\n(.*?)```",
                Pattern.DOTALL)
            .matcher(doc);
    int blocks = 0;
    while (block.find()) {
      Run run =
          mpj(
              "plan",
              "-f",
              Path.of("..").resolve(block.group(1)).toString(),
              "--gpu-memory",
              block.group(2));
      assertThat(run.out)
          .as("docs/concepts/sizing.md, plan on %s", block.group(2))
          .isEqualTo(block.group(3));
      blocks++;
    }
    assertThat(blocks).isEqualTo(3);
  }

  private Path write(String training, String data) throws IOException {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: small}
        spec:
          precision: fp16-mixed
          model: {architecture: mlp, mlp: {hiddenSizes: [16]}}
          %s
          training: {%s, steps: 10}
        """
            .formatted(data, training));
    return file;
  }

  private static Run mpj(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private record Run(int code, String out, String err) {}
}
