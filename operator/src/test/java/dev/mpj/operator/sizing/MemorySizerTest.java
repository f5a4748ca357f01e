package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.SizingStatus;
import org.junit.jupiter.api.Test;

/**
 * The plan, on a model small enough to work by hand: an MLP 4 -> 8 -> 2 with Adam.
 *
 * <pre>
 * parameters  4*8 + 8 + 8*2 + 2 = 58; model state 58 * 16 = 928 bytes in either precision
 * update temporaries (the model is smaller than one update piece, so a piece is 58 elements):
 *   fp32 Adam's 5 fused pieces * 4 * 58 = 1,160; fp16-mixed 6 * 4 * 58 = 1,392; plus the joined
 *   gradient of the grouped small parameters (all four tensors, 58 elements, one group): fp32
 *   4 * 58 = 232 -> 1,392, fp16-mixed 2 * 58 = 116 -> 1,508
 * activations per sample, fp32:       2 bytes * 2 * (input 4 + ReLU output 8) = 48 scaled
 *                                     + the loss's FP32 log-softmax 4*2 = 8 fixed          -> 56
 *                                     + backward's transient: the ReLU's output and input
 *                                       gradients 4 * 2 * 8 = 64 (the loss's 8 * 2 = 16)  -> 120
 *                         fp16-mixed: 24 scaled + 8 fixed + 2 * 2 * 8 = 32 transient      -> 64
 * once per micro-batch, backward's new gradient of the largest parameter (4*8 = 32 elements):
 *   fp32 4 * 32 = 128, fp16-mixed on a GPU 2 * 32 = 64
 * a step holds the state plus the larger of the update temporaries and the activations (the
 * trainer frees the activations before the update)
 * settings: reserve 1,000 bytes, no fraction; GPU of 4,456 bytes:
 *   4,456 - 1,000 - 928 = 2,528 beside the state, more than either precision's temporaries:
 *   fp32 (2,528 - 128) / 120 = 20; fp16-mixed (2,528 - 64) / 64 = 38
 * </pre>
 */
class MemorySizerTest {

  private static final SizingSettings SETTINGS = new SizingSettings(1_000, 0.0, 1L << 30);
  private final MemorySizer sizer = new MemorySizer(SETTINGS);

  @Test
  void largestMicroBatchThatFitsInEachPrecision() {
    JobSizing sizing = size(job(60, 1, 8, "gpuMemory: 4456"), null);
    assertThat(sizing.parameters()).isEqualTo(58);
    assertThat(sizing.fp32().maxMicroBatch()).isEqualTo(20);
    assertThat(sizing.fp16Mixed().maxMicroBatch()).isEqualTo(38);
    // one byte less and fp32 fits only 19: 2,399 / 120
    assertThat(size(job(60, 1, 8, "gpuMemory: 4455"), null).fp32().maxMicroBatch()).isEqualTo(19);
    // fp32: 60 / 20 = 3 replicas of 20; fp16-mixed: the largest divisor of 60 up to 38 is 30,
    // 2 replicas; one GPU saved
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(3, 20, 1));
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(2, 30, 1));
    assertThat(sizing.gpusSavedByMixed()).isEqualTo(1);
    // at micro-batch 30: fp32 928 + max(1,392, 30*120 + 128) = 4,656, fp16-mixed 928 + max(1,508,
    // 30*64 + 64) = 2,912 -> 1,744
    assertThat(sizing.memorySavedPerReplicaBytes()).isEqualTo(1_744);
    assertThat(sizing.fp16Mixed().bytesPerReplica().total()).isEqualTo(1_000 + 928 + 30 * 64 + 64);
    assertThat(sizing.fp16Mixed().bytesPerReplica().updateTemporaries()).isEqualTo(1_508);
  }

  @Test
  void theOperatorGetsTheJobsPrecisionAndTheStatusBoth() {
    SizingPlan plan = sizer.plan(job(60, 1, 8, "gpuMemory: 4456"), ClusterCapacity.unknown());
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(2);
    assertThat(plan.microBatch()).isEqualTo(30);
    assertThat(plan.gradientAccumulation()).isEqualTo(1);
    SizingStatus status = plan.status();
    assertThat(status.parameters).isEqualTo(58);
    assertThat(status.gpuMemoryBytes).isEqualTo(4_456);
    assertThat(status.gpuMemorySource).isEqualTo("spec");
    assertThat(status.fits).isTrue();
    assertThat(status.reason).isEqualTo("Fits");
    assertThat(status.plan.precision).isEqualTo("fp16-mixed");
    assertThat(status.plan.gpus).isEqualTo(2);
    assertThat(status.fp32.replicas).isEqualTo(3);
    assertThat(status.gpusSaved).isEqualTo(1);
    assertThat(status.memorySavedPerReplicaBytes).isEqualTo(1_744);
    assertThat(plan.message())
        .startsWith("2 replicas x micro-batch 30 x accumulation 1 = global batch 60");
  }

  @Test
  void globalBatchSmallerThanOneMicroBatch() {
    JobSizing sizing = size(job(6, 1, 8, "gpuMemory: 4456"), null);
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(1, 6, 1));
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(1, 6, 1));
    assertThat(sizing.gpusSavedByMixed()).isZero();
    // replicas.min 3 splits the 6 samples: 3 x 2
    JobSizing atLeastThree = size(job(6, 3, 8, "gpuMemory: 4456"), null);
    assertThat(atLeastThree.fp16Mixed().split()).isEqualTo(new BatchSplit(3, 2, 1));
    assertThat(atLeastThree.fp16Mixed().message()).contains("replicas.min is 3");
  }

  @Test
  void aModelThatDoesNotFitAtAllStalls() {
    // 928 bytes of model state + the larger of 1,508 of temporaries and one sample with the weight
    // gradient (64 + 64) + 1,000 reserve = 3,436 > 3,316
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 3316");
    SizingPlan plan = sizer.plan(spec, ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isFalse();
    assertThat(plan.status().fits).isFalse();
    assertThat(plan.status().reason).isEqualTo("DoesNotFit");
    assertThat(plan.status().plan.maxMicroBatch).isZero();
    assertThat(plan.status().plan.bytesPerReplica).isEqualTo(3_436);
    assertThat(plan.message())
        .isEqualTo(
            "fp16-mixed needs 3.4 KiB per replica at micro-batch 1 (model state 928 B of 58 parameters, the"
                + " larger of update temporaries 1.5 KiB and activations 128 B, reserve 1000 B) but a GPU has"
                + " 3.2 KiB (spec): 120 B short");
  }

  @Test
  void aLargeModelThatDoesNotFitSaysSoWithItsNumbers() {
    // 32,768 -> 32,768 -> 10: 32,768^2 + 32,768 + 327,680 + 10 = 1,074,102,282 parameters,
    // 16 bytes each of model state = 16.0 GiB; beside it the larger of the update temporaries (1.6
    // MiB) and one sample's activations with backward's new FP16 gradient of the 32,768^2 weight,
    // 2.0 GiB: with the 1.8 GiB reserve, 3.8 GiB more than a 16 GiB GPU holds.
    MixedPrecisionJobSpec spec =
        Jobs.spec(
            """
            precision: fp16-mixed
            model: {architecture: mlp, mlp: {hiddenSizes: [32768]}}
            data: {source: synthetic, synthetic: {features: 32768, classes: 10}}
            training: {globalBatchSize: 64, steps: 1}
            resources: {gpuMemory: 16Gi}
            """);
    SizingPlan plan =
        new MemorySizer(SizingSettings.defaults()).plan(spec, ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.status().parameters).isEqualTo(1_074_102_282L);
    assertThat(plan.message())
        .contains("1,074,102,282 parameters")
        .contains("model state 16.0 GiB")
        .contains("activations 2.0 GiB")
        .contains("but a GPU has 16.0 GiB (spec): 3.8 GiB short");
  }

  @Test
  void fewerFreeGpusThanIdealMeansMoreAccumulation() {
    // ideal 2 replicas of 30; 1 GPU free: 1 replica, 60 samples = 2 x 30
    SizingPlan plan = sizer.plan(job(60, 1, 8, "gpuMemory: 4456"), new ClusterCapacity(null, 1));
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(1);
    assertThat(plan.microBatch()).isEqualTo(30);
    assertThat(plan.gradientAccumulation()).isEqualTo(2);
    assertThat(plan.message()).contains("only 1 GPUs free");
  }

  @Test
  void fewerFreeGpusThanReplicasMinMeansWaiting() {
    SizingPlan plan = sizer.plan(job(60, 3, 8, "gpuMemory: 4456"), new ClusterCapacity(null, 2));
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isTrue();
    assertThat(plan.status().fits).isTrue();
    assertThat(plan.message())
        .isEqualTo("waiting for 3 GPUs (replicas.min 3 x 1 per replica), 2 free");
  }

  @Test
  void replicasOfSeveralGpusCountWholeReplicas() {
    // 2 GPUs per replica, 3 free: 1 replica at most (not the ideal 2); 60 samples = 2 x 30
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 4456, gpusPerReplica: 2");
    SizingPlan plan = sizer.plan(spec, new ClusterCapacity(null, 3));
    assertThat(plan.replicas()).isEqualTo(1);
    assertThat(plan.microBatch() * plan.gradientAccumulation()).isEqualTo(60);
    assertThat(plan.status().plan.gpus).isEqualTo(2);
  }

  @Test
  void cpuReplicasDoNotWaitForGpus() {
    SizingPlan plan =
        sizer.plan(
            job(60, 3, 8, "gpuMemory: 4456, gpusPerReplica: 0"), new ClusterCapacity(null, 0));
    assertThat(plan.fits()).isTrue();
    assertThat(plan.replicas()).isEqualTo(3);
    assertThat(plan.status().plan.gpus).isZero();
  }

  @Test
  void replicasMaxReached() {
    // at most 1 replica: 60 samples; fp16-mixed 2 x 30, fp32 3 x 20
    JobSizing sizing = size(job(60, 1, 1, "gpuMemory: 4456"), null);
    assertThat(sizing.fp16Mixed().split()).isEqualTo(new BatchSplit(1, 30, 2));
    assertThat(sizing.fp32().split()).isEqualTo(new BatchSplit(1, 20, 3));
    assertThat(sizing.fp16Mixed().message()).contains("replicas.max 1 reached");
    assertThat(sizing.gpusSavedByMixed()).isZero();
  }

  @Test
  void aGlobalBatchNoReplicaCountDividesCannotRun() {
    SizingPlan plan = sizer.plan(job(7, 2, 4, "gpuMemory: 4456"), ClusterCapacity.unknown());
    assertThat(plan.fits()).isFalse();
    assertThat(plan.waitingForGpus()).isFalse();
    assertThat(plan.status().reason).isEqualTo("BatchNotSplittable");
    assertThat(plan.message())
        .startsWith("global batch 7 cannot be divided evenly over 2 to 4 replicas");
  }

  @Test
  void gpuMemoryComesFromTheSpecThenTheNodeLabelThenTheDefault() {
    ClusterCapacity labelled = new ClusterCapacity(40L << 30, null);
    assertThat(sizer.plan(job(60, 1, 8, "gpuMemory: 24Gi"), labelled).status().gpuMemorySource)
        .isEqualTo("spec");
    SizingStatus fromNode = sizer.plan(job(60, 1, 8, "cpu: \"1\""), labelled).status();
    assertThat(fromNode.gpuMemorySource).isEqualTo("node-label");
    assertThat(fromNode.gpuMemoryBytes).isEqualTo(40L << 30);
    SizingStatus fromDefault =
        sizer.plan(job(60, 1, 8, "cpu: \"1\""), ClusterCapacity.unknown()).status();
    assertThat(fromDefault.gpuMemorySource).isEqualTo("operator-default");
    assertThat(fromDefault.gpuMemoryBytes).isEqualTo(1L << 30);
  }

  @Test
  void theDefaultReserveIsOneGibibyteAndFivePercent() {
    // 24 GiB: 1 GiB + ceil(0.05 * 24 GiB) = 1 GiB + 1,288,490,189 bytes
    assertThat(SizingSettings.defaults().overheadBytes(24L << 30))
        .isEqualTo((1L << 30) + 1_288_490_189L);
  }

  @Test
  void anFp32JobRunsTheFp32PlanAndSavesNothing() {
    MixedPrecisionJobSpec spec = job(60, 1, 8, "gpuMemory: 4456");
    spec.precision = Precision.FP32;
    spec.parity = null;
    SizingPlan plan = sizer.plan(spec, ClusterCapacity.unknown());
    assertThat(plan.replicas()).isEqualTo(3);
    assertThat(plan.microBatch()).isEqualTo(20);
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
    assertThat(plan.message())
        .startsWith("not sized by memory: the mlp needs the data's features and classes");
  }

  private JobSizing size(MixedPrecisionJobSpec spec, Integer freeGpus) {
    return sizer.size(
        spec,
        DataShape.of(spec.data),
        GpuMemory.resolve(spec, ClusterCapacity.unknown(), SETTINGS),
        freeGpus);
  }

  private static MixedPrecisionJobSpec job(
      int globalBatch, int minReplicas, int maxReplicas, String resources) {
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
