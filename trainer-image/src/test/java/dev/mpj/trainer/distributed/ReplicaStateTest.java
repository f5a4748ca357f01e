package dev.mpj.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.JobFiles;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.collective.ReplicaGroup;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingSession;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What rank 0 broadcasts at the start: enough for another replica to continue exactly where it
 * stands.
 */
class ReplicaStateTest {

  private static RunConfig config(double learningRate, int replicas) {
    return RunConfig.standalone(
        JobFiles.parse(
            """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: state}
        spec:
          precision: fp16-mixed
          lossScaling: {mode: dynamic, initialScale: 16777216, growthInterval: 3}
          model:
            architecture: cnn
            cnn: {channels: [4], blocksPerStage: 1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 256, features: 64, classes: 4}
            validationFraction: 0.25
          training:
            globalBatchSize: 16
            steps: 100
            optimizer: {type: adam, learningRate: %s}
            seed: 5
        """
                .formatted(learningRate)),
        null,
        0,
        replicas);
  }

  private static TrainingSession session(RunConfig config) {
    Dataset all = DataSource.load(config.spec());
    return new TrainingSession(
        config, DataSplit.of(all, config.spec().data.validationFraction, config.seed()));
  }

  @Test
  void aReplicaLoadedWithRankZerosStateContinuesExactlyAsRankZero() {
    RunConfig config = config(0.01, 1);
    try (TrainingSession rank0 = session(config);
        TrainingSession other = session(config)) {
      for (int i = 0; i < 12; i++) {
        rank0.runStep();
      }
      assertThat(rank0.skippedSteps()).isPositive().isLessThan(12);
      assertThat(rank0.weights().bufferNames())
          .isNotEmpty(); // BatchNorm running statistics travel too
      other.runStep(); // a replica that is somewhere else before it loads
      ReplicaState sent = ReplicaState.of(rank0, config);

      ReplicaState.fromBytes(sent.toBytes()).loadInto(other, config);

      assertThat(ReplicaState.of(other, config).digest()).isEqualTo(sent.digest());
      assertThat(other.step()).isEqualTo(12);
      assertThat(other.scaler().scale()).isEqualTo(rank0.scaler().scale());
      assertThat(other.dataOrder().index()).isEqualTo(rank0.dataOrder().index());
      for (int i = 0; i < 3; i++) {
        StepResult a = rank0.runStep();
        StepResult b = other.runStep();
        assertThat(b.loss()).isEqualTo(a.loss());
        assertThat(b.gradNorm()).isEqualTo(a.gradNorm());
      }
      assertThat(ReplicaState.of(other, config).digest())
          .isEqualTo(ReplicaState.of(rank0, config).digest());
    }
  }

  @Test
  void aReplicaOfAnotherSpecRefusesTheStateAndKeepsItsOwn() {
    try (TrainingSession rank0 = session(config(0.01, 1));
        TrainingSession other = session(config(0.02, 1))) {
      rank0.runStep();
      byte[] sent = ReplicaState.of(rank0, config(0.01, 1)).toBytes();
      long before = ReplicaState.of(other, config(0.02, 1)).digest();
      assertThatThrownBy(() -> ReplicaState.fromBytes(sent).loadInto(other, config(0.02, 1)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("another job spec");
      assertThat(ReplicaState.of(other, config(0.02, 1)).digest()).isEqualTo(before);
    }
  }

  @Test
  void theEnvironmentMustAgreeWithTheConfig() {
    assertThatThrownBy(
            () ->
                ReplicaStartup.join(
                    config(0.01, 2),
                    Map.of(
                        "MPJ_WORLD_SIZE",
                        "3",
                        "MPJ_RANK",
                        "0",
                        "MPJ_COORDINATOR_ADDR",
                        "127.0.0.1",
                        "MPJ_COORDINATOR_PORT",
                        "29500",
                        "MPJ_JOB_TOKEN",
                        "t")))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("MPJ_WORLD_SIZE");
    assertThatThrownBy(
            () ->
                ReplicaStartup.join(
                    config(0.01, 2),
                    Map.of(
                        "MPJ_WORLD_SIZE",
                        "2",
                        "MPJ_RANK",
                        "0",
                        "MPJ_COORDINATOR_ADDR",
                        "127.0.0.1",
                        "MPJ_COORDINATOR_PORT",
                        "port",
                        "MPJ_JOB_TOKEN",
                        "t")))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageStartingWith("MPJ_COORDINATOR_PORT");
    assertThatThrownBy(
            () ->
                ReplicaStartup.join(
                    config(0.01, 2),
                    Map.of(
                        "MPJ_WORLD_SIZE",
                        "2",
                        "MPJ_RANK",
                        "0",
                        "MPJ_COORDINATOR_ADDR",
                        "127.0.0.1",
                        "MPJ_COORDINATOR_PORT",
                        "29500")))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageStartingWith("MPJ_JOB_TOKEN");
    try (ReplicaGroup alone = ReplicaStartup.join(config(0.01, 1), Map.of())) {
      assertThat(alone.worldSize()).isEqualTo(1);
      assertThat(alone.ringAddress()).isNull(); // no socket
    }
  }
}
