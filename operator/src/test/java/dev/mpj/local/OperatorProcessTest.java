package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supervisor of {@code mpj local --operator-process}, with a stand-in process ({@code sleep}):
 * killed as the kernel kills (SIGKILL), it is started again, its new pid replaces the old in the
 * pid file; once closed, nothing is started again. The operator itself restarted mid-job is {@code
 * mpj chaos --faults operator-restart} (docs/operations/reliability.md).
 */
class OperatorProcessTest {
  @Test
  void aKilledOperatorIsStartedAgainAndAClosedOneIsNot(@TempDir Path dir) throws Exception {
    List<String> said = new CopyOnWriteArrayList<>();
    Path pidFile = dir.resolve("operator/pid");
    OperatorProcess operator =
        OperatorProcess.start(List.of("sleep", "300"), dir.resolve("operator"), said::add);
    long first = Long.parseLong(Files.readString(pidFile));
    ProcessHandle killed = ProcessHandle.of(first).orElseThrow();
    assertThat(operator.started()).isOne();

    killed.destroyForcibly(); // SIGKILL
    long second = first;
    for (int i = 0; i < 200 && second == first; i++) {
      Thread.sleep(50);
      second = Long.parseLong(Files.readString(pidFile));
    }
    assertThat(second).isNotEqualTo(first);
    assertThat(killed.isAlive()).isFalse();
    ProcessHandle restarted = ProcessHandle.of(second).orElseThrow();
    assertThat(restarted.isAlive()).isTrue();
    assertThat(operator.started()).isEqualTo(2);
    assertThat(said)
        .containsExactly(
            "operator process 1 started (pid " + first + ")",
            "operator process 1 (pid "
                + first
                + ") ended with exit code 137; starting it again in 1 s",
            "operator process 2 started (pid " + second + ")");

    operator.close();
    assertThat(restarted.isAlive()).isFalse();
    Thread.sleep(OperatorProcess.RESTART_DELAY.toMillis() + 500);
    assertThat(operator.started()).isEqualTo(2);
    assertThat(Files.readString(pidFile)).isEqualTo(String.valueOf(second));
    assertThat(Files.readString(dir.resolve("operator/log.txt")))
        .contains("--- operator process 1", "--- operator process 2");
  }
}
