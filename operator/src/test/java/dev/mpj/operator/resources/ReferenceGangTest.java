package dev.mpj.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.Precision;
import dev.mpj.api.PrecisionFallbackStatus;
import dev.mpj.api.ReferenceGangStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainerConfig;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import org.junit.jupiter.api.Test;

/** schedule beside's reference gang: its view of the job, its names, config and status. */
class ReferenceGangTest {
  private final OperatorSettings settings = OperatorSettings.defaults();

  private static MixedPrecisionJob beside() {
    MixedPrecisionJob job = MockCluster.quickstart("side");
    job.getMetadata().setUid("uid-1");
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.reference = new ParitySpec.Reference();
    job.getSpec().parity.reference.steps = 40;
    job.getSpec().parity.reference.windowSteps = 10;
    job.getSpec().parity.reference.schedule = ParitySpec.Schedule.BESIDE;
    return job;
  }

  /**
   * The gang's status and the job status the planner reads are copied field by field both ways: a
   * field added to ReferenceGangStatus and not to both copies fails here.
   */
  @Test
  void everyFieldOfTheGangsStatusSurvivesTheRoundTripThroughTheJobStatus() throws Exception {
    ReferenceGangStatus gang = new ReferenceGangStatus();
    int n = 1;
    for (Field field : ReferenceGangStatus.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      Class<?> type = field.getType();
      if (type == int.class || type == Integer.class) {
        field.set(gang, 100 + n);
      } else if (type == String.class) {
        field.set(gang, "value " + n);
      } else if (type == JobPhase.class) {
        field.set(gang, JobPhase.Restarting);
      } else {
        throw new AssertionError("no test value for " + field + ": add one here");
      }
      n++;
    }

    ReferenceGangStatus back = ReferenceGang.gang(ReferenceGang.status(gang));

    for (Field field : ReferenceGangStatus.class.getFields()) {
      if (!Modifier.isStatic(field.getModifiers())) {
        assertThat(field.get(back)).as(field.getName()).isEqualTo(field.get(gang));
      }
    }
  }

  @Test
  void theViewIsTheJobMarkedWithItsOwnPodsConfigAndFp32Training() {
    MixedPrecisionJob job = beside();
    MixedPrecisionJob view = ReferenceGang.view(job);
    assertThat(ReferenceGang.isView(view)).isTrue();
    assertThat(ReferenceGang.isView(job)).as("the job itself is not changed").isFalse();

    Pod pod = ReplicaPods.desired(view, 1, 2, 1, settings);
    assertThat(pod.getMetadata().getName()).isEqualTo("side-worker-1-reference");
    assertThat(ReferenceGang.isReferencePod(pod)).isTrue();
    assertThat(ReferenceGang.isReferencePod(ReplicaPods.desired(job, 1, 2, 1, settings))).isFalse();
    assertThat(pod.getMetadata().getOwnerReferences().get(0).getUid()).isEqualTo("uid-1");
    assertThat(pod.getMetadata().getAnnotations()).doesNotContainKey(ReferenceGang.LABEL);
    assertThat(JobNames.configMap(view)).isEqualTo("side-config-reference");
    assertThat(JobNames.configMap(job)).isEqualTo("side-config");
    assertThat(JobNames.secret(view)).as("one token for the job").isEqualTo(JobNames.secret(job));
    assertThat(JobNames.checkpointClaim(view)).isEqualTo(JobNames.checkpointClaim(job));
    assertThat(JobNames.coordinatorAddress(view))
        .as("the reference gang meets at its own rank 0")
        .startsWith("side-worker-0-reference.side-workers.");

    SizingPlan plan = new SizingPlan(true, 2, 32, 1, null, "");
    TrainerConfig config = JobChildren.trainerConfig(view, plan);
    assertThat(config.spec.precision).isEqualTo(Precision.FP32);
    assertThat(config.spec.training.steps).isEqualTo(40);
    assertThat(config.spec.parity).isNull();
    assertThat(config.referenceParity.referenceRun).isTrue();
    assertThat(config.referenceParity.step).isEqualTo(40);

    TrainerConfig own = JobChildren.trainerConfig(job, plan);
    assertThat(own.spec.precision).isEqualTo(Precision.FP16_MIXED);
    assertThat(own.referenceParity.referenceRun).isNull();
    assertThat(own.referenceParity.reference)
        .as("beside, the job's run only reports; the operator compares")
        .isNull();
    assertThat(ReferenceRun.running(job)).isFalse();
  }

  @Test
  void theViewsStatusIsTheGangsOwnAndComesBackIntoIt() {
    MixedPrecisionJob job = beside();
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().attempt = 3;
    job.getStatus().restarts = 2;
    assertThat(ReferenceGang.view(job).getStatus().attempt)
        .as("before the gang started: attempt 0, whatever the job's")
        .isZero();

    ReferenceGangStatus gang = new ReferenceGangStatus();
    gang.phase = JobPhase.Running;
    gang.attempt = 2;
    gang.restarts = 1;
    gang.replicas = 2;
    gang.startTime = "2026-01-01T00:00:00Z";
    job.getStatus().parity = new ParityStatus();
    job.getStatus().parity.reference = new ReferenceParityStatus();
    job.getStatus().parity.reference.gang = gang;
    MixedPrecisionJobStatus viewStatus = ReferenceGang.view(job).getStatus();
    assertThat(viewStatus.attempt).isEqualTo(2);
    assertThat(viewStatus.restarts).isEqualTo(1);
    assertThat(viewStatus.phase).isEqualTo(JobPhase.Running);
    ReferenceGangStatus back = ReferenceGang.gang(viewStatus);
    assertThat(back).usingRecursiveComparison().isEqualTo(gang);
  }

  @Test
  void besideOnlyForAMixedJobThatDidNotFallBack() {
    MixedPrecisionJob job = beside();
    assertThat(ReferenceGang.beside(job)).isTrue();
    job.getSpec().parity.reference.schedule = ParitySpec.Schedule.BEFORE;
    assertThat(ReferenceGang.beside(job)).isFalse();
    job.getSpec().parity.reference.schedule = ParitySpec.Schedule.BESIDE;
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().precisionFallback = new PrecisionFallbackStatus();
    assertThat(ReferenceGang.beside(job))
        .as("after an FP32 fallback nothing is compared")
        .isFalse();
  }

  @Test
  void gpusHeldCountTheUnfinishedPodsAndCapacityLessTakesThem() {
    MixedPrecisionJob job = beside();
    job.getSpec().resources.gpusPerReplica = 2;
    Pod running = ReplicaPods.desired(job, 1, 3, 0, settings);
    running.setStatus(new PodStatusBuilder().withPhase("Running").build());
    Pod pending = ReplicaPods.desired(job, 1, 3, 1, settings);
    Pod done = ReplicaPods.desired(job, 1, 3, 2, settings);
    done.setStatus(new PodStatusBuilder().withPhase("Succeeded").build());
    assertThat(ReferenceGang.gpusHeld(job, List.of(running, pending, done))).isEqualTo(4);

    assertThat(new ClusterCapacity(1L, 8).less(4)).isEqualTo(new ClusterCapacity(1L, 4));
    assertThat(new ClusterCapacity(1L, 3).less(4)).isEqualTo(new ClusterCapacity(1L, 0));
    assertThat(ClusterCapacity.unknown().less(4)).isEqualTo(ClusterCapacity.unknown());
  }
}
