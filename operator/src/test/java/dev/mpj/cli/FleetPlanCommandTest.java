package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.mpj.api.DataShape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.planning.GpuCatalog;
import dev.mpj.operator.planning.GpuType;
import dev.mpj.operator.sizing.GpuMemory;
import dev.mpj.operator.sizing.JobSizing;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * mpj plan over a folder of jobs: the fleet totals, the catalog, invalid files, the JSON schema.
 */
class FleetPlanCommandTest {

  static final Path ROOT = Path.of("..");
  static final Path EXAMPLES = ROOT.resolve("docs").resolve("examples");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void theExamplesFolderPlansEveryJobAndTheTotalsAreTheSumOfTheirSizings() throws IOException {
    Run run = mpj(null, "plan", "-f", EXAMPLES.toString(), "--gpu", "A100-80GB,T4", "-o", "json");
    assertThat(run.code).as(run.err).isZero();
    JsonNode plan = validJson(run.out);
    List<MixedPrecisionJob> examples = examples();
    assertThat(plan.get("jobs")).hasSize(examples.size());
    MemorySizer sizer = new MemorySizer(SizingSettings.defaults());
    GpuCatalog catalog = GpuCatalog.builtIn();
    for (int t = 0; t < 2; t++) {
      GpuType gpu = catalog.find(t == 0 ? "A100-80GB" : "T4").orElseThrow();
      int fp32 = 0;
      int mixed = 0;
      int asWritten = 0;
      for (MixedPrecisionJob job : examples) {
        JobSizing s =
            sizer.size(
                job.getSpec(),
                DataShape.of(job.getSpec().data),
                new GpuMemory(gpu.memoryBytes(), "catalog"),
                null);
        fp32 += s.fp32().runs() ? s.fp32().gpus() : 0;
        mixed += s.fp16Mixed().runs() ? s.fp16Mixed().gpus() : 0;
        asWritten += s.job().runs() ? s.job().gpus() : 0;
      }
      JsonNode totals = plan.get("totals").get(t);
      assertThat(totals.get("gpu").asText()).isEqualTo(gpu.name());
      assertThat(totals.at("/fp32/gpus").asInt()).isEqualTo(fp32);
      assertThat(totals.at("/fp16Mixed/gpus").asInt()).isEqualTo(mixed);
      assertThat(totals.at("/asWritten/gpus").asInt()).isEqualTo(asWritten);
      int summed = 0;
      for (JsonNode job : plan.get("jobs")) {
        JsonNode p = job.get("plans").get(t);
        summed += p.at("/fp32/runs").asBoolean() ? p.at("/fp32/gpus").asInt() : 0;
      }
      assertThat(summed).isEqualTo(fp32);
    }
    // the 1B-class model fits an 80 GB GPU and not a 16 GB one
    JsonNode lm1b = job(plan, "lm-1b");
    assertThat(lm1b.at("/plans/0/fp16Mixed/runs").asBoolean()).isTrue();
    assertThat(lm1b.at("/plans/1/fp16Mixed/fits").asBoolean()).isFalse();
    assertThat(lm1b.at("/plans/1/fp16Mixed/outcome").asText()).isEqualTo("DoesNotFit");
  }

  @Test
  void invalidFilesAreReportedWithFieldAndFileWhileTheOthersPlan() throws IOException {
    Path fleet = Files.createDirectories(dir.resolve("fleet"));
    Files.copy(EXAMPLES.resolve("quickstart.yaml"), fleet.resolve("a-quickstart.yaml"));
    Files.writeString(
        fleet.resolve("b-broken.yaml"),
        Files.readString(EXAMPLES.resolve("tabular-mlp.yaml"))
            .replace("globalBatchSize: 4096", "globalBatchSize: 0"));
    Files.writeString(
        fleet.resolve("c-mixed.yaml"),
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data: {a: b}
        ---
        # only a comment
        ---
        """
            + Files.readString(EXAMPLES.resolve("gpt2-small.yaml"))
            + "\n---\n"
            + Files.readString(EXAMPLES.resolve("resnet-cnn.yaml"))
                .replace("precision: fp16-mixed", "precision: fp64"));
    Files.writeString(fleet.resolve("notes.txt"), "not a manifest");
    Run run = mpj(null, "plan", "-f", fleet.toString(), "-o", "json");
    assertThat(run.code).isEqualTo(FleetPlanning.EXIT_SOME_INVALID);
    JsonNode plan = validJson(run.out);
    assertThat(plan.get("jobs"))
        .extracting(j -> j.get("name").asText())
        .containsExactly("quickstart", "gpt2-small");
    assertThat(run.err)
        .contains(
            "invalid job churn-mlp in "
                + fleet.resolve("b-broken.yaml")
                + ": spec.training.globalBatchSize: must be at least 1")
        .contains(
            "invalid job resnet-tiny-imagenet in "
                + fleet.resolve("c-mixed.yaml")
                + ", document 3: spec.precision: unknown value \"fp64\"")
        .contains(
            "skipped "
                + fleet.resolve("c-mixed.yaml")
                + ", document 1: a ConfigMap (v1), not a MixedPrecisionJob");
    assertThat(plan.at("/invalid/0/violations/0/field").asText())
        .isEqualTo("spec.training.globalBatchSize");
    assertThat(plan.at("/skipped/0/source").asText()).endsWith("c-mixed.yaml, document 1");
  }

  @Test
  void standardInputAndSeveralFilesAreOneFleet() throws IOException {
    String stdin =
        Files.readString(EXAMPLES.resolve("tabular-mlp.yaml"))
            + "---\n"
            + Files.readString(EXAMPLES.resolve("quickstart-fp32.yaml"));
    Run run =
        mpj(
            stdin,
            "plan",
            "-f",
            "-",
            EXAMPLES.resolve("transformer-multi-replica.yaml").toString(),
            "--gpu",
            "L4");
    assertThat(run.code).as(run.err).isZero();
    assertThat(run.out)
        .contains("Fleet plan: 3 jobs planned, 0 not sized, 0 invalid, 0 skipped")
        .contains("On L4 (24.0 GiB per GPU)")
        .containsPattern("(?m)^analytics/churn-mlp\\s+fp16-mixed")
        .containsPattern("(?m)^quickstart-fp32\\s+fp32")
        .containsPattern("(?m)^tiny-lm\\s+fp16-mixed");
  }

  @Test
  void aNonJobAloneIsNothingToPlan() throws IOException {
    Path config =
        Files.writeString(dir.resolve("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\n---\n");
    Run run = mpj(null, "plan", "-f", config.toString(), dir.resolve("absent.yaml").toString());
    assertThat(run.code).isEqualTo(FleetPlanning.EXIT_SOME_INVALID);
    assertThat(run.err).contains("-f: file not found: " + dir.resolve("absent.yaml"));
    Run alone = mpj(null, "plan", "-f", dir.toString());
    assertThat(alone.code).isEqualTo(MpjCommand.EXIT_BAD_INPUT);
    assertThat(alone.err).contains("skipped").contains("no MixedPrecisionJob in");
  }

  @Test
  void estimatesFollowFromFlopsUtilizationAndPrice() throws IOException {
    Run run =
        mpj(
            null,
            "plan",
            "-f",
            EXAMPLES.resolve("gpt2-small.yaml").toString(),
            "--gpu",
            "h100",
            "--utilization",
            "0.5",
            "--price",
            "H100-80GB=4",
            "-o",
            "json");
    assertThat(run.code).as(run.err).isZero();
    JsonNode plan = validJson(run.out);
    JsonNode job = plan.at("/jobs/0");
    GpuType h100 = GpuCatalog.builtIn().find("H100-80GB").orElseThrow();
    double flopsPerStep = job.get("trainingFlopsPerSample").asDouble() * 512;
    for (String precision : List.of("fp32", "fp16Mixed")) {
      JsonNode p = job.at("/plans/0/" + precision);
      double peak = h100.peakFlops(precision.equals("fp16Mixed"));
      double step = flopsPerStep / (p.get("gpus").asInt() * peak * 0.5);
      assertThat(p.at("/estimate/stepSeconds").asDouble()).isCloseTo(step, within(step));
      double gpuHours = 20_000 * step * p.get("gpus").asInt() / 3600;
      assertThat(p.at("/estimate/gpuHours").asDouble()).isCloseTo(gpuHours, within(gpuHours));
      assertThat(p.at("/estimate/cost").asDouble()).isCloseTo(4 * gpuHours, within(gpuHours));
    }
    // the same work on the tensor cores: FP32 costs the ratio of the peaks more
    assertThat(
            job.at("/plans/0/fp32/estimate/gpuHours").asDouble()
                / job.at("/plans/0/fp16Mixed/estimate/gpuHours").asDouble())
        .isCloseTo(989.5 / 67.0, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(plan.at("/assumptions/utilization").asDouble()).isEqualTo(0.5);
    assertThat(plan.at("/assumptions/pricePerGpuHour/H100-80GB").asDouble()).isEqualTo(4.0);
  }

  @Test
  void badFleetFlagsNameTheFlag() throws IOException {
    String examples = EXAMPLES.toString();
    Run unknownGpu = mpj(null, "plan", "-f", examples, "--gpu", "B200");
    assertThat(unknownGpu.code).isEqualTo(2);
    assertThat(unknownGpu.err).contains("unknown GPU 'B200'").contains("H200-141GB");
    assertThat(unknownGpu.out).isEmpty();
    Run utilization = mpj(null, "plan", "-f", examples, "--utilization", "1.5");
    assertThat(utilization.code).isEqualTo(2);
    assertThat(utilization.err).contains("--utilization");
    Run price = mpj(null, "plan", "-f", examples, "--price", "X1=3");
    assertThat(price.code).isEqualTo(2);
    assertThat(price.err).contains("--price: unknown GPU 'X1'");
    Path catalog =
        Files.writeString(dir.resolve("gpus.yaml"), "gpus:\n- name: X1\n  fp32Tflops: 10\n");
    Run badCatalog = mpj(null, "plan", "-f", examples, "--catalog", catalog.toString());
    assertThat(badCatalog.code).isEqualTo(2);
    assertThat(badCatalog.err).contains("gpus[0].memory: is required");
  }

  @Test
  void aUserCatalogAddsAndOverridesEntries() throws IOException {
    Path catalog =
        Files.writeString(
            dir.resolve("gpus.yaml"),
            """
            gpus:
            - {name: T4, memory: 15Gi, architecture: Turing, tensorCoreFormats: [fp16], fp32Tflops: 8.1, fp16Tflops: 65}
            - {name: MI300X, memory: 192Gi, architecture: CDNA 3, tensorCoreFormats: [fp16, bf16, fp8], fp32Tflops: 163.4, fp16Tflops: 1307.4}
            """);
    Run run =
        mpj(
            null,
            "plan",
            "-f",
            EXAMPLES.resolve("transformer-1b.yaml").toString(),
            "--catalog",
            catalog.toString(),
            "--gpu",
            "t4,MI300X",
            "-o",
            "json");
    assertThat(run.code).as(run.err).isZero();
    JsonNode plan = validJson(run.out);
    assertThat(plan.at("/gpus/0/memoryBytes").asLong()).isEqualTo(15L << 30);
    assertThat(plan.at("/gpus/1/name").asText()).isEqualTo("MI300X");
    assertThat(plan.at("/jobs/0/plans/1/fp16Mixed/runs").asBoolean()).isTrue();
  }

  @Test
  void markdownForAPullRequestAndHtmlWithAChart() throws IOException {
    Run md = mpj(null, "plan", "-f", EXAMPLES.toString(), "--gpu", "L40S", "-o", "markdown");
    assertThat(md.code).as(md.err).isZero();
    assertThat(md.out)
        .startsWith("### Fleet plan: ")
        .contains("#### On L40S (48.0 GiB per GPU)")
        .containsPattern("(?m)^\\| JOB \\| PRECISION \\|")
        .containsPattern("(?m)^\\|---\\|--:\\|");
    Run html = mpj(null, "plan", "-f", EXAMPLES.toString(), "--gpu", "L40S,H200", "-o", "html");
    assertThat(html.code).as(html.err).isZero();
    Matcher images =
        Pattern.compile(
                "<img alt=\"GPUs per job and precision on ([^\"]+)\" src=\"data:image/png;base64,([^\"]+)\">")
            .matcher(html.out);
    List<String> charts = new ArrayList<>();
    while (images.find()) {
      byte[] png = Base64.getDecoder().decode(images.group(2));
      assertThat(new String(png, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
      javax.imageio.ImageIO.setUseCache(false);
      var image = javax.imageio.ImageIO.read(new ByteArrayInputStream(png));
      assertThat(image.getWidth()).isEqualTo(FleetChart.WIDTH);
      charts.add(images.group(1));
    }
    assertThat(charts).containsExactly("L40S", "H200-141GB");
  }

  @Test
  void theChartsDataAreTheGpusOfEachJobAndPrecision() throws IOException {
    Run run = mpj(null, "plan", "-f", EXAMPLES.toString(), "--gpu", "A10", "-o", "json");
    JsonNode plan = validJson(run.out);
    var manifests = dev.mpj.operator.planning.FleetManifests.none();
    for (Path p : examplePaths()) {
      manifests =
          manifests.plus(
              dev.mpj.operator.planning.FleetManifests.of(p.toString(), Files.readString(p)));
    }
    var fleet =
        new dev.mpj.operator.planning.FleetPlanner(new MemorySizer(SizingSettings.defaults()))
            .plan(
                manifests.jobs(),
                List.of(
                    dev.mpj.operator.planning.PlanTarget.of(
                        GpuCatalog.builtIn().find("A10").orElseThrow())),
                dev.mpj.operator.planning.FleetPlanner.Assumptions.defaults());
    var data = FleetChart.dataset(fleet, 0);
    for (JsonNode job : plan.get("jobs")) {
      String name =
          (job.get("namespace").isNull() ? "" : job.get("namespace").asText() + "/")
              + job.get("name").asText();
      int fp32 =
          job.at("/plans/0/fp32/runs").asBoolean() ? job.at("/plans/0/fp32/gpus").asInt() : 0;
      assertThat(data.getValue("fp32", name).intValue()).as(name).isEqualTo(fp32);
    }
  }

  @Test
  void theOutputPastedInTheCapacityPlanningGuideIsWhatPlanPrintsToday() throws IOException {
    String doc =
        Files.readString(
            ROOT.resolve("docs").resolve("operations").resolve("capacity-planning.md"));
    Matcher block =
        Pattern.compile("```\\n\\$ bin/mpj (plan [^\\n|]*)\\n(.*?)```", Pattern.DOTALL)
            .matcher(doc);
    int blocks = 0;
    while (block.find()) {
      List<String> args = new ArrayList<>();
      for (String arg : block.group(1).split(" ")) {
        args.add(arg.startsWith("docs/") ? ROOT.resolve(arg).toString() : arg);
      }
      Run run = mpj(null, args.toArray(String[]::new));
      String expected = block.group(2);
      assertThat(run.out.replace(ROOT.toString() + "/", ""))
          .as("docs/operations/capacity-planning.md: mpj %s", block.group(1))
          .isEqualTo(expected);
      blocks++;
    }
    assertThat(blocks).isGreaterThanOrEqualTo(3);
  }

  static org.assertj.core.data.Offset<Double> within(double value) {
    return org.assertj.core.data.Offset.offset(Math.abs(value) * 1e-9);
  }

  private static JsonNode job(JsonNode plan, String name) {
    for (JsonNode job : plan.get("jobs")) {
      if (job.get("name").asText().equals(name)) {
        return job;
      }
    }
    throw new AssertionError("no job " + name);
  }

  static JsonNode validJson(String out) throws IOException {
    Schema schema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(
                Files.readString(ROOT.resolve("docs/reference/fleet-plan.schema.json")),
                InputFormat.JSON);
    assertThat(schema.validate(out, InputFormat.JSON)).isEmpty();
    return JSON.readTree(out);
  }

  private static List<Path> examplePaths() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  private static List<MixedPrecisionJob> examples() throws IOException {
    List<MixedPrecisionJob> jobs = new ArrayList<>();
    for (Path p : examplePaths()) {
      jobs.add(JobFiles.read(p));
    }
    return jobs;
  }

  static Run mpj(String stdin, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    if (stdin != null) {
      PlanCommand plan = cli.getSubcommands().get("plan").getCommand();
      plan.stdin = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
    }
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  record Run(int code, String out, String err) {}
}
