package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckpointScheduleTest {

  /**
   * The steps a run of {@code total} steps checkpoints, each step taking {@code secondsPerStep}.
   */
  private static List<Long> checkpointed(
      CheckpointSchedule schedule, long total, double secondsPerStep) {
    List<Long> steps = new ArrayList<>();
    double sinceLast = 0;
    for (long step = 1; step <= total; step++) {
      sinceLast += secondsPerStep;
      if (schedule.due(step, sinceLast)) {
        steps.add(step);
        sinceLast = 0;
      }
    }
    return steps;
  }

  @Test
  void everyIntervalStepsAndTheLastStep() {
    assertThat(checkpointed(new CheckpointSchedule(40, null, 150), 150, 10.0))
        .containsExactly(40L, 80L, 120L, 150L);
  }

  @Test
  void intervalSecondsAddsCheckpointsAsTimePassesAndRestartsAfterEachOne() {
    // 0.3 s a step, a checkpoint at least every 1 s: every 4th step (1.2 s), and step 10 by the
    // step interval.
    assertThat(checkpointed(new CheckpointSchedule(10, 1, 20), 20, 0.3))
        .containsExactly(4L, 8L, 10L, 14L, 18L, 20L);
  }
}
