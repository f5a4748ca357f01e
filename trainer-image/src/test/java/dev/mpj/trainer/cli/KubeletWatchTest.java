package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.TrainerContract;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KubeletWatchTest {
  private static Map<String, String> kubelet(long pid) {
    return Map.of(TrainerContract.ENV_LOCAL_KUBELET_PID, String.valueOf(pid));
  }

  @Test
  void theTrainerStopsOnceTheKubeletsProcessHasEnded() throws Exception {
    Process kubelet = new ProcessBuilder("sleep", "30").start();
    CountDownLatch stopped = new CountDownLatch(1);
    assertThat(KubeletWatch.stopWhenGone(kubelet(kubelet.pid()), stopped::countDown)).isTrue();
    assertThat(stopped.await(300, TimeUnit.MILLISECONDS)).as("not while it runs").isFalse();
    kubelet.destroyForcibly().waitFor();
    assertThat(stopped.await(10, TimeUnit.SECONDS)).as("once it is gone").isTrue();
  }

  @Test
  void aKubeletThatIsGoneAlreadyStopsTheTrainerAtOnce() throws Exception {
    Process kubelet = new ProcessBuilder("true").start();
    kubelet.waitFor();
    CountDownLatch stopped = new CountDownLatch(1);
    KubeletWatch.stopWhenGone(kubelet(kubelet.pid()), stopped::countDown);
    assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void withoutTheVariableNothingIsWatched() {
    assertThat(KubeletWatch.stopWhenGone(Map.of(), () -> {})).isFalse();
    assertThat(
            KubeletWatch.stopWhenGone(
                Map.of(TrainerContract.ENV_LOCAL_KUBELET_PID, "not-a-pid"), () -> {}))
        .isFalse();
  }
}
