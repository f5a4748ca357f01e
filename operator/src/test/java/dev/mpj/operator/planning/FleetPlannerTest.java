package dev.mpj.operator.planning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.operator.planning.FleetPlanner.FleetPlan;
import dev.mpj.operator.planning.FleetPlanner.JobOnTarget;
import dev.mpj.operator.planning.FleetPlanner.JobPlan;
import dev.mpj.operator.sizing.MemoryModel;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.PrecisionSizing;
import dev.mpj.operator.sizing.SizingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FleetPlannerTest {

  static final Path EXAMPLES = Path.of("..", "docs", "examples");
  private final MemorySizer sizer = new MemorySizer(SizingSettings.defaults());

  static FleetManifests examples() throws IOException {
    FleetManifests all = FleetManifests.none();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        all = all.plus(FleetManifests.of(p.toString(), Files.readString(p)));
      }
    }
    return all;
  }

  @Test
  void everyCatalogGpuFitsAJobExactlyWhenTheMemoryModelSaysOneReplicaFits() throws IOException {
    FleetManifests examples = examples();
    assertThat(examples.invalid()).isEmpty();
    assertThat(examples.jobs())
        .extracting(j -> j.job().getMetadata().getName())
        .contains("resnet-tiny-imagenet", "gpt2-small", "lm-1b", "churn-mlp");
    List<PlanTarget> targets = GpuCatalog.builtIn().entries().stream().map(PlanTarget::of).toList();
    FleetPlan plan =
        new FleetPlanner(sizer).plan(examples.jobs(), targets, FleetPlanner.Assumptions.defaults());
    int doesNotFit = 0;
    for (JobPlan job : plan.jobs()) {
      MixedPrecisionJobSpec spec = job.document().job().getSpec();
      for (JobOnTarget on : job.targets()) {
        long memory = on.target().gpu().memoryBytes();
        long reserve = sizer.settings().overheadBytes(memory);
        for (Precision precision : List.of(Precision.FP32, Precision.FP16_MIXED)) {
          long atOne = MemoryModel.perReplica(spec, job.shape(), precision, 1).total() + reserve;
          PrecisionSizing p = precision.isMixed() ? on.sizing().fp16Mixed() : on.sizing().fp32();
          assertThat(p.memoryFits())
              .as(
                  "%s %s on %s",
                  job.document().job().getMetadata().getName(), precision, on.target().name())
              .isEqualTo(atOne <= memory);
          if (p.runs()) {
            long atMicroBatch =
                MemoryModel.perReplica(spec, job.shape(), precision, p.split().microBatch()).total()
                    + reserve;
            assertThat(atMicroBatch).isLessThanOrEqualTo(memory);
            assertThat(p.bytesPerReplica().total()).isEqualTo(atMicroBatch);
          } else {
            doesNotFit++;
          }
        }
      }
    }
    // the 1B-class model does not fit the 16-48 GB GPUs: the catalog tells the GPUs apart
    assertThat(doesNotFit).isPositive();
  }

  @Test
  void theTotalsAddUpTheJobsThatRun() throws IOException {
    FleetManifests examples = examples();
    PlanTarget t4 = PlanTarget.of(GpuCatalog.builtIn().find("T4").orElseThrow());
    FleetPlan plan =
        new FleetPlanner(sizer)
            .plan(
                examples.jobs(),
                List.of(t4, PlanTarget.asWritten()),
                FleetPlanner.Assumptions.defaults());
    for (int t = 0; t < 2; t++) {
      int index = t;
      var totals = plan.totals().get(t);
      int fp32 =
          plan.jobs().stream()
              .map(j -> j.targets().get(index).sizing().fp32())
              .filter(PrecisionSizing::runs)
              .mapToInt(PrecisionSizing::gpus)
              .sum();
      int mixed =
          plan.jobs().stream()
              .map(j -> j.targets().get(index).sizing().fp16Mixed())
              .filter(PrecisionSizing::runs)
              .mapToInt(PrecisionSizing::gpus)
              .sum();
      assertThat(totals.gpusFp32()).isEqualTo(fp32);
      assertThat(totals.gpusFp16Mixed()).isEqualTo(mixed);
      assertThat(totals.jobs()).isEqualTo(examples.jobs().size());
    }
    // as written, each job plans on its own spec.resources.gpuMemory
    for (JobPlan job : plan.jobs()) {
      var spec = job.document().job().getSpec();
      assertThat(job.targets().get(1).sizing().gpuMemory().source()).isEqualTo("spec");
      assertThat(job.targets().get(1).sizing().gpuMemory().bytes())
          .isEqualTo(spec.resources.gpuMemory.getNumericalAmount().longValue());
    }
    assertThat(plan.totals().get(1).gpuHoursFp32()).isNull();
  }

  @Test
  void stepsComeFromEpochsAsTheTrainerCountsThem() throws IOException {
    FleetManifests examples = examples();
    MixedPrecisionJobSpec churn =
        examples.jobs().stream()
            .filter(j -> j.job().getMetadata().getName().equals("churn-mlp"))
            .findFirst()
            .orElseThrow()
            .job()
            .getSpec();
    // 2,000,000 samples less 10% held out = 1,800,000; ceil(1,800,000 / 4096) = 440 per epoch; 20
    // epochs
    assertThat(FleetPlanner.steps(churn)).isEqualTo(440L * 20);
  }

  @Test
  void aCsvJobIsNotSizedButTheOthersAre() throws IOException {
    String csv =
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: from-csv}
        spec:
          precision: fp16-mixed
          model: {architecture: mlp}
          data: {source: csv, csv: {path: /data/train.csv}}
          training: {globalBatchSize: 64, epochs: 3}
        """;
    FleetManifests manifests =
        FleetManifests.of(
            "jobs.yaml", csv + "---\n" + Files.readString(EXAMPLES.resolve("quickstart.yaml")));
    FleetPlan plan =
        new FleetPlanner(sizer)
            .plan(
                manifests.jobs(),
                List.of(PlanTarget.asWritten()),
                FleetPlanner.Assumptions.defaults());
    assertThat(plan.unsized()).hasSize(1);
    assertThat(plan.unsized().get(0).missing()).containsExactly("features", "classes");
    assertThat(plan.unsized().get(0).document().source()).isEqualTo("jobs.yaml, document 1");
    assertThat(plan.jobs()).hasSize(1);
  }

  @Test
  void pricesTurnGpuHoursIntoCost() throws IOException {
    FleetManifests examples = examples();
    GpuType l4 = GpuCatalog.builtIn().find("L4").orElseThrow();
    FleetPlan plan =
        new FleetPlanner(sizer)
            .plan(
                examples.jobs(),
                List.of(PlanTarget.of(l4)),
                new FleetPlanner.Assumptions(0.25, Map.of("L4", 0.8)));
    var totals = plan.totals().get(0);
    assertThat(totals.costFp16Mixed())
        .isCloseTo(totals.gpuHoursFp16Mixed() * 0.8, org.assertj.core.data.Offset.offset(1e-6));
    JobPlan gpt2 =
        plan.jobs().stream()
            .filter(j -> j.document().job().getMetadata().getName().equals("gpt2-small"))
            .findFirst()
            .orElseThrow();
    Estimate e = gpt2.targets().get(0).fp16MixedEstimate();
    int gpus = gpt2.targets().get(0).sizing().fp16Mixed().gpus();
    double expected = gpt2.flopsPerSample() * 512 / (gpus * 121e12 * 0.25);
    assertThat(e.stepSeconds())
        .isCloseTo(expected, org.assertj.core.data.Offset.offset(expected * 1e-9));
    assertThat(e.hours())
        .isCloseTo(20_000 * expected / 3600, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void documentsThatAreNotJobsAreSkippedWithANote() {
    FleetManifests m =
        FleetManifests.of(
            "mixed.yaml",
            "apiVersion: apps/v1\nkind: Deployment\n---\n# nothing\n---\n- a list\n---\n"
                + "apiVersion: mpj.dev/v1alpha1\nkind: MixedPrecisionJob\nmetadata: {name: x}\nspec: {precision: fp32}\n");
    assertThat(m.skipped())
        .extracting(FleetManifests.SkippedDocument::note)
        .containsExactly(
            "a Deployment (apps/v1), not a MixedPrecisionJob", "not a Kubernetes object");
    assertThat(m.skipped().get(1).source()).isEqualTo("mixed.yaml, document 2");
    assertThat(m.invalid()).hasSize(1);
    assertThat(m.invalid().get(0).name()).isEqualTo("x");
    assertThat(m.invalid().get(0).violations()).extracting(v -> v.field()).contains("spec.model");
  }
}
