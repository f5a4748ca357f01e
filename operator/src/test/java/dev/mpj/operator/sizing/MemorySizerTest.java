package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.SizingStatus;
import org.junit.jupiter.api.Test;

/**
 * The plan, on a model small enough to work by hand: an MLP 4 -> 8 -> 2 with Adam.
 *
 * <pre>
 * parameters  4*8 + 8 + 8*2 + 2 = 58; model state 58 * 16 = 928 bytes in either precision
 * activations per sample, fp32:       2 bytes * 2 * (8 + 8 + 2) = 72 scaled + 4*4 + 4*2 = 24 fixed -> 96
 *                         fp16-mixed: 36 scaled + 24 fixed + 2*4 + 4*2 = 16 cast                    -> 76
 * settings: reserve 1,000 bytes, no fraction; GPU of 2,888 bytes: 960 bytes for activations
 * max micro-batch: fp32 960 / 96 = 10; fp16-mixed 960 / 76 = 12
 * </pre>
 */
class MemorySizerTest {

  private static final SizingSettings SETTINGS = new SizingSettings(1_000, 0.0, 1L << 30);
  private final MemorySizer sizer = new MemorySizer(SETTINGS);

  @Test
  void largestMicroBatchThatFitsInEachPrecision() {
    JobSizing sizing = size(job(60, 1, 8, "gpuMemory: 2888"), null);
    assertThat(sizing.parameters()).isEqualTo(58);
    assertThat(sizing.fp32().maxMicroBatch()).isEqualTo(10);
    assertThat(sizing.fp16Mixed().maxMicroBatch()).isEqualTo(12);
    // one byte less and fp32 fits only 9: (959) / 96
    assertThat(size(job(60, 1, 8, "gpuMemory: 2887"), null).fp32().maxMicroBatch()).isEqualTo(9);
    // fp32: 60 / 10 = 6 replicas; fp16-mixed: 60 / 12 = 5 replicas; one GPU saved
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(6, 10, 1));
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(5, 12, 1));
    assertThat(sizing.gpusSavedByMixed()).isEqualTo(1);
    // at micro-batch 12: fp32 928 + 12*96 = 2,080, fp16-mixed 928 + 12*76 = 1,840 -> 240 saved
    assertThat(sizing.memorySavedPerReplicaBytes()).isEqualTo(240);
    assertThat(sizing.fp16Mixed().bytesPerReplica().total()).isEqualTo(1_000 + 928 + 12 * 76);
  }

  @Test
  void theOperatorGetsTheJobsPrecisionAndTheStatusBoth() {
    SizingPlan plan = sizer.plan(job(60, 1, 8, "gpuMemory: 2888"), ClusterCapacity.unknown());
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(5);
    assertThat(plan.microBatch()).isEqualTo(12);
    assertThat(plan.gradientAccumulation()).isEqualTo(1);
    SizingStatus status = plan.status();
    assertThat(status.parameters).isEqualTo(58);
    assertThat(status.gpuMemoryBytes).isEqualTo(2_888);
    assertThat(status.gpuMemorySource).isEqualTo("spec");
    assertThat(status.fits).isTrue();
    assertThat(status.reason).isEqualTo("Fits");
    assertThat(status.plan.precision).isEqualTo("fp16-mixed");
    assertThat(status.plan.gpus).isEqualTo(5);
    assertThat(status.fp32.replicas).isEqualTo(6);
    assertThat(status.gpusSaved).isEqualTo(1);
    assertThat(status.memorySavedPerReplicaBytes).isEqualTo(240);
    assertThat(plan.message()).startsWith("5 replicas x micro-batch 12 x accumulation 1 = global batch 60");
  }

  @Test
  void globalBatchSmallerThanOneMicroBatch() {
    JobSizing sizing = size(job(6, 1, 8, "gpuMemory: 2888"), null);
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(1, 6, 1));
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(1, 6, 1));
    assertThat(sizing.gpusSavedByMixed()).isZero();
    // replicas.min 3 splits the 6 samples: 3 x 2
    JobSizing atLeastThree = size(job(6, 3, 8, "gpuMemory: 2888"), null);
    assertThat(atLeastThree.fp16Mixed().split()).isEqualTo(new BatchSplit(3, 2, 1));
    assertThat(atLeastThree.fp16Mixed().message()).contains("replicas.min is 3");
  }

  @Test
  void aModelThatDoesNotFitAtAllStalls() {
    // 928 bytes of model state + 1,000 reserve + one sample (96 / 76) > 2,000
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 2000");
    SizingPlan plan = sizer.plan(spec, ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isFalse();
    assertThat(plan.status().fits).isFalse();
    assertThat(plan.status().reason).isEqualTo("DoesNotFit");
    assertThat(plan.status().plan.maxMicroBatch).isZero();
    // 1,000 + 928 + 76 = 2,004 bytes at micro-batch 1
    assertThat(plan.status().plan.bytesPerReplica).isEqualTo(2_004);
    assertThat(plan.message())
        .isEqualTo(
            "fp16-mixed needs 2.0 KiB per replica at micro-batch 1 (model state 928 B of 58 parameters,"
                + " activations 76 B, reserve 1000 B) but a GPU has 2.0 KiB (spec): 4 B short");
  }

  @Test
  void aLargeModelThatDoesNotFitSaysSoWithItsNumbers() {
    // 32,768 -> 32,768 -> 10: 32,768^2 + 32,768 + 327,680 + 10 = 1,074,102,282 parameters,
    // 16 bytes each = 16.0 GiB of model state before any activation: no 16 GiB GPU holds it.
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: mlp, mlp: {hiddenSizes: [32768]}}
            data: {source: synthetic, synthetic: {features: 32768, classes: 10}}
            training: {globalBatchSize: 64, steps: 1}
            resources: {gpuMemory: 16Gi}
            """);
    SizingPlan plan = new MemorySizer().plan(spec, ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.status().parameters).isEqualTo(1_074_102_282L);
    assertThat(plan.message()).contains("1,074,102,282 parameters").contains("but a GPU has 16.0 GiB (spec): 1.8 GiB short");
  }

  @Test
  void fewerFreeGpusThanIdealMeansMoreAccumulation() {
    // ideal 5 replicas of 12; 4 GPUs free: 4 replicas, 15 samples each = 3 x 5
    SizingPlan plan = sizer.plan(job(60, 1, 8, "gpuMemory: 2888"), new ClusterCapacity(null, 4));
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(4);
    assertThat(plan.microBatch()).isEqualTo(5);
    assertThat(plan.gradientAccumulation()).isEqualTo(3);
    assertThat(plan.message()).contains("only 4 GPUs free");
  }

  @Test
  void fewerFreeGpusThanReplicasMinMeansWaiting() {
    SizingPlan plan = sizer.plan(job(60, 3, 8, "gpuMemory: 2888"), new ClusterCapacity(null, 2));
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isTrue();
    assertThat(plan.status().fits).isTrue();
    assertThat(plan.message()).isEqualTo("waiting for 3 GPUs (replicas.min 3 x 1 per replica), 2 free");
  }

  @Test
  void replicasOfSeveralGpusCountWholeReplicas() {
    // 2 GPUs per replica, 7 free: 3 replicas at most; 60 / 3 = 20 each = 2 x 10 in fp16-mixed
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 2888, gpusPerReplica: 2");
    SizingPlan plan = sizer.plan(spec, new ClusterCapacity(null, 7));
    assertThat(plan.replicas()).isEqualTo(3);
    assertThat(plan.microBatch() * plan.gradientAccumulation()).isEqualTo(20);
    assertThat(plan.status().plan.gpus).isEqualTo(6);
  }

  @Test
  void cpuReplicasDoNotWaitForGpus() {
    SizingPlan plan = sizer.plan(job(60, 2, 8, "gpuMemory: 2888, gpusPerReplica: 0"), new ClusterCapacity(null, 0));
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(5);
    assertThat(plan.status().plan.gpus).isZero();
  }

  @Test
  void replicasMaxReached() {
    // at most 2 replicas: 30 samples each; fp16-mixed 30 = 3 x 10 (12 does not divide 30)
    JobSizing sizing = size(job(60, 1, 2, "gpuMemory: 2888"), null);
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(2, 10, 3));
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(2, 10, 3));
    assertThat(sizing.fp16Mixed().message()).contains("replicas.max 2 reached");
    assertThat(sizing.gpusSavedByMixed()).isZero();
  }

  @Test
  void aGlobalBatchNoReplicaCountDividesCannotRun() {
    SizingPlan plan = sizer.plan(job(7, 2, 4, "gpuMemory: 2888"), ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isFalse();
    assertThat(plan.status().reason).isEqualTo("BatchNotSplittable");
    assertThat(plan.message()).startsWith("global batch 7 cannot be divided evenly over 2 to 4 replicas");
  }

  @Test
  void gpuMemoryComesFromTheSpecThenTheNodeLabelThenTheDefault() {
    ClusterCapacity labelled = new ClusterCapacity(40L << 30, null);
    assertThat(sizer.plan(job(60, 1, 8, "gpuMemory: 24Gi"), labelled).status().gpuMemorySource).isEqualTo("spec");
    SizingStatus fromNode = sizer.plan(job(60, 1, 8, "cpu: \"1\""), labelled).status();
    assertThat(fromNode.gpuMemorySource).isEqualTo("node-label");
    assertThat(fromNode.gpuMemoryBytes).isEqualTo(40L << 30);
    SizingStatus fromDefault = sizer.plan(job(60, 1, 8, "cpu: \"1\""), ClusterCapacity.unknown()).status();
    assertThat(fromDefault.gpuMemorySource).isEqualTo("operator-default");
    assertThat(fromDefault.gpuMemoryBytes).isEqualTo(1L << 30);
  }

  @Test
  void theDefaultReserveIsOneGibibyteAndFivePercent() {
    // 24 GiB: 1 GiB + ceil(0.05 * 24 GiB) = 1 GiB + 1,288,490,189 bytes
    assertThat(SizingSettings.defaults().overheadBytes(24L << 30)).isEqualTo((1L << 30) + 1_288_490_189L);
  }

  @Test
  void anFp32JobRunsTheFp32PlanAndSavesNothing() {
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 2888");
    spec.precision = dev.mpj.api.Precision.FP32;
    spec.parity = null;
    SizingPlan plan = sizer.plan(spec, ClusterCapacity.unknown());
    assertThat(plan.replicas()).isEqualTo(6);
    assertThat(plan.microBatch()).isEqualTo(10);
    assertThat(plan.status().plan.precision).isEqualTo("fp32");
    assertThat(plan.status().gpusSaved).isZero();
  }

  @Test
  void dataFromAFileIsNotSizedByMemory() {
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: mlp, mlp: {hiddenSizes: [8]}}
            data: {source: csv, csv: {path: /data/train.csv}}
            training: {globalBatchSize: 60, steps: 1}
            replicas: {min: 2, max: 8}
            """);
    SizingPlan plan = sizer.plan(spec, ClusterCapacity.unknown());
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(2);
    assertThat(plan.microBatch()).isEqualTo(30);
    assertThat(plan.status().reason).isEqualTo("NotSized");
    assertThat(plan.status().parameters).isNull();
    assertThat(plan.message()).startsWith("not sized by memory: the mlp needs the data's features and classes");
  }

  private JobSizing size(MixedPrecisionJobSpec spec, Integer freeGpus) {
    return sizer.size(spec, DataShape.of(spec.data), GpuMemory.resolve(spec, ClusterCapacity.unknown(), SETTINGS), freeGpus);
  }

  private static MixedPrecisionJobSpec job(int globalBatch, int minReplicas, int maxReplicas, String resources) {
    return Jobs.spec(
        """
        precision: fp16-mixed
        model: {architecture: mlp, mlp: {hiddenSizes: [8]}}
        data: {source: synthetic, synthetic: {features: 4, classes: 2}}
        training: {globalBatchSize: %d, steps: 1}
        replicas: {min: %d, max: %d}
        resources: {%s}
        """
            .formatted(globalBatch, minReplicas, maxReplicas, resources));
  }
}
