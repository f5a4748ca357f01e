package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a checkpoint holds per parameter for each optimizer, and the pod memory it needs. */
class CheckpointSizeTest {

  private static TrainingSpec.Optimizer sgd(double momentum) {
    TrainingSpec.Optimizer o = new TrainingSpec.Optimizer();
    o.type = TrainingSpec.OptimizerType.SGD;
    o.momentum = momentum;
    return o;
  }

  @Test
  void theMasterWeightAndTheOptimizersStatePerParameter() {
    // Adam, also when the job leaves the optimizer unset: the weight and two moments
    assertThat(CheckpointSize.valuesPerParameter(new TrainingSpec.Optimizer())).isEqualTo(3);
    assertThat(CheckpointSize.valuesPerParameter(null)).isEqualTo(3);
    // SGD keeps a momentum buffer only with momentum
    assertThat(CheckpointSize.valuesPerParameter(sgd(0.9))).isEqualTo(2);
    assertThat(CheckpointSize.valuesPerParameter(sgd(0))).isEqualTo(1);
    assertThat(CheckpointSize.snapshotBytes(1_000, null)).isEqualTo(12_000);
  }

  @Test
  void thePodNeedsMoreThanTwiceTheSnapshot() {
    assertThat(CheckpointSize.leastPodMemoryBytes(12_000)).isEqualTo(24_000);
    assertThat(CheckpointSize.leastPodMemoryBytes(12_001)).isEqualTo(24_002);
  }
}
