package dev.mpj.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunOutcomeTest {
  private static final List<String> PODS =
      List.of("chaos-worker-0-attempt-1", "chaos-worker-0-attempt-2", "chaos-worker-1-attempt-1");

  private static RunOutcome outcome(
      String phase, int restarts, List<String> pods, long last, long resumed, boolean same) {
    return new RunOutcome(phase, restarts, pods, PODS, last, resumed, 20, same);
  }

  @Test
  void aRunThatRecoveredHasNoProblem() {
    assertThat(outcome("Succeeded", 1, PODS, 37, 20, true).problems(1)).isEmpty();
    assertThat(outcome("Succeeded", 1, PODS, 37, 20, true).lostSteps()).isEqualTo(17);
  }

  @Test
  void eachBrokenRuleIsNamed() {
    assertThat(outcome("Failed", 1, PODS, 37, 20, true).problems(1))
        .containsExactly("phase Failed, not Succeeded");
    assertThat(outcome("Succeeded", 2, PODS, 37, 20, true).problems(1))
        .containsExactly("2 restarts for 1 kill(s)");
    assertThat(outcome("Succeeded", 1, PODS.subList(0, 2), 37, 20, true).problems(1))
        .singleElement()
        .asString()
        .startsWith("pods [");
    assertThat(outcome("Succeeded", 1, PODS, 41, 20, true).problems(1))
        .containsExactly("21 steps lost, more than the 20 this fault allows");
    assertThat(outcome("Succeeded", 1, PODS, 37, 20, false).problems(1))
        .containsExactly("final weights differ from the uninterrupted run's");
  }
}
