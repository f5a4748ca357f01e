package dev.mpj.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.chaos.RunOutcome.Resume;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunOutcomeTest {
  private static final List<String> PODS =
      List.of("chaos-worker-0-attempt-1", "chaos-worker-0-attempt-2", "chaos-worker-1-attempt-1");

  /** Killed at step 37 of a job checkpointing every 20, 20 published, resumed from 20. */
  private static final Resume RESUMED = new Resume(37, 20, 0, 37, 20, 20);

  private static RunOutcome outcome(
      String phase, int restarts, List<String> pods, Resume resume, boolean same) {
    return new RunOutcome(phase, restarts, pods, PODS, resume, same);
  }

  @Test
  void aRunThatRecoveredHasNoProblem() {
    assertThat(outcome("Succeeded", 1, PODS, RESUMED, true).problems(1)).isEmpty();
    assertThat(outcome("Succeeded", 1, PODS, RESUMED, true).lostSteps()).isEqualTo(17);
    // A fault that restarts nothing (a full disk, an operator restart): no resume to judge.
    assertThat(outcome("Succeeded", 0, PODS, null, true).problems(0)).isEmpty();
    assertThat(outcome("Succeeded", 0, PODS, null, true).lostSteps()).isZero();
  }

  @Test
  void stepsTheWriterHadNotYetPublishedAreNotCountedAgainstTheResume() {
    // Last session's run 9: interval 5, killed at step 8 while checkpoint 5 was still being
    // written (the loop waits for it only at step 10): nothing was durable, the resume from 0
    // redid 8 steps, more than an interval, and lost nothing the checkpointing had promised.
    Resume lagging = new Resume(8, 0, 0, 8, 0, 5);
    assertThat(lagging.lostSteps()).isEqualTo(8);
    assertThat(lagging.due()).isZero();
    assertThat(outcome("Succeeded", 1, PODS, lagging, true).problems(1)).isEmpty();
    // At step 14 checkpoint 5 must be published (the loop waited for it at 10), 10 may not be.
    assertThat(outcome("Succeeded", 1, PODS, new Resume(14, 5, 0, 14, 5, 5), true).problems(1))
        .isEmpty();
  }

  @Test
  void aResumeBehindTheNewestPublishedCheckpointIsALoss() {
    assertThat(outcome("Succeeded", 1, PODS, new Resume(13, 10, 0, 13, 5, 5), true).problems(1))
        .containsExactly(
            "resumed from 5, behind checkpoint 10, the newest published (durable) at the fault: 5"
                + " durable steps lost");
    // A corrupted newest checkpoint costs that one: the one before it is what is promised.
    Resume corrupted = new Resume(13, 10, 1, 13, 5, 5);
    assertThat(corrupted.promised()).isEqualTo(5);
    assertThat(outcome("Succeeded", 1, PODS, corrupted, true).problems(1)).isEmpty();
    assertThat(outcome("Succeeded", 1, PODS, new Resume(13, 10, 1, 13, 0, 5), true).problems(1))
        .containsExactly(
            "resumed from 0, behind checkpoint 5 (the newest published at the fault, 10, less the 1"
                + " the fault destroyed): 5 durable steps lost");
  }

  @Test
  void aWriterMoreThanOneCheckpointBehindBreaksItsPromise() {
    // At step 16 the loop had waited at 15 for checkpoint 10: 5 alone is a writer that lagged.
    assertThat(outcome("Succeeded", 1, PODS, new Resume(16, 5, 0, 16, 5, 5), true).problems(1))
        .containsExactly(
            "at step 16 the newest published checkpoint was 5, not 10 or later: the checkpoint"
                + " writer lagged more than one interval");
  }

  @Test
  void eachBrokenRuleIsNamed() {
    assertThat(outcome("Failed", 1, PODS, RESUMED, true).problems(1))
        .containsExactly("phase Failed, not Succeeded");
    assertThat(outcome("Succeeded", 2, PODS, RESUMED, true).problems(1))
        .containsExactly("2 restarts for 1 fault(s) needing one");
    assertThat(outcome("Succeeded", 1, PODS.subList(0, 2), RESUMED, true).problems(1))
        .singleElement()
        .asString()
        .startsWith("pods [");
    assertThat(outcome("Succeeded", 1, PODS, RESUMED, false).problems(1))
        .containsExactly("final weights differ from the uninterrupted run's");
  }
}
