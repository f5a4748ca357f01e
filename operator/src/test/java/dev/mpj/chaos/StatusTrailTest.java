package dev.mpj.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatusTrailTest {
  @Test
  void aJobThatMovesOnlyForwardHasNoRegression() {
    List<String> lines =
        List.of(
            "mpj local: operator process 1 started (pid 12084)",
            "[   4.4s] Pending    attempt 1  restarts 0",
            "[   4.6s] event    Started: attempt 1 with 2 replicas",
            "[   6.2s] Running    attempt 1  restarts 0",
            "[  16.2s] Running    attempt 1  restarts 0  step 12/80  loss 1.7271  scale 1",
            "[  18.0s] Restarting attempt 1  restarts 1  step 14/80  loss 1.6000  scale 1",
            // A new attempt resumes from its checkpoint: its step may be lower than the last.
            "[  20.0s] Pending    attempt 2  restarts 1  step 14/80  loss 1.6000  scale 1",
            "[  24.0s] Running    attempt 2  restarts 1  step 11/80  loss 1.7000  scale 1",
            "[  27.2s] Succeeded  attempt 2  restarts 1  step 80/80  loss 0.4618  scale 1");
    assertThat(StatusTrail.regressions(lines)).isEmpty();
    assertThat(StatusTrail.isStatusLine(lines.get(1))).isTrue();
    assertThat(StatusTrail.isStatusLine(lines.get(2))).isFalse();
  }

  @Test
  void eachRegressionIsNamed() {
    assertThat(
            StatusTrail.regressions(
                List.of(
                    "[  16.2s] Running    attempt 1  restarts 0  step 12/80  loss 1.7",
                    "[  17.2s] Running    attempt 1  restarts 0  step 9/80  loss 1.8")))
        .singleElement()
        .asString()
        .startsWith("step went back from 12 to 9");
    // After the resume of attempt 2, its steps go forward again.
    assertThat(
            StatusTrail.regressions(
                List.of(
                    "[  16.2s] Running    attempt 1  restarts 0  step 14/80  loss 1.7",
                    "[  17.2s] Running    attempt 2  restarts 1  step 14/80  loss 1.7",
                    "[  18.2s] Running    attempt 2  restarts 1  step 11/80  loss 1.8",
                    "[  19.2s] Running    attempt 2  restarts 1  step 10/80  loss 1.8")))
        .singleElement()
        .asString()
        .startsWith("step went back from 11 to 10");
    assertThat(
            StatusTrail.regressions(
                List.of(
                    "[   6.2s] Running    attempt 1  restarts 0",
                    "[   7.2s] Pending    attempt 1  restarts 0")))
        .singleElement()
        .asString()
        .startsWith("phase went back from Running to Pending");
    assertThat(
            StatusTrail.regressions(
                List.of(
                    "[   6.2s] Running    attempt 2  restarts 1",
                    "[   7.2s] Running    attempt 1  restarts 0")))
        .containsExactly(
            "attempt went back from 2 to 1: [   7.2s] Running    attempt 1  restarts 0",
            "restarts went back from 1 to 0: [   7.2s] Running    attempt 1  restarts 0");
  }
}
