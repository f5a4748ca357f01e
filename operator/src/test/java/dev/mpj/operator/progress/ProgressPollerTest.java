package dev.mpj.operator.progress;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.net.ConnectException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

public class ProgressPollerTest {
  public static final String REPORT =
      "{\"step\":120,\"totalSteps\":300,\"loss\":0.75,\"lossScale\":32768.0,\"skippedSteps\":2,"
          + "\"samplesPerSecond\":512.5,\"lastCheckpoint\":{\"step\":100,\"time\":\"2026-01-01T00:00:00Z\","
          + "\"path\":\"/var/run/mpj/checkpoints/step-00000100\"},"
          + "\"parity\":{\"step\":100,\"fp16Loss\":0.76,\"fp32Loss\":0.75,\"relativeGap\":0.013,\"withinBound\":true},"
          + "\"somethingNew\":1}";

  private final FakeTrainer trainer = new FakeTrainer("s3cret");
  private final ProgressPoller poller =
      new ProgressPoller(Duration.ofMillis(300), Clock.systemUTC());

  @AfterEach
  void close() {
    poller.close();
    trainer.close();
  }

  private URI uri() {
    return URI.create("http://127.0.0.1:" + trainer.port() + "/progress");
  }

  @Test
  void readsTheReportWithTheJobToken() {
    trainer.body.set(REPORT);
    poller.refresh("job", uri(), "s3cret");
    eventually(() -> assertThat(poller.latest("job")).isPresent());
    ProgressReport r = poller.latest("job").orElseThrow();
    assertThat(r.progress().step).isEqualTo(120L);
    assertThat(r.progress().totalSteps).isEqualTo(300L);
    assertThat(r.progress().lossScale).isEqualTo(32768.0);
    assertThat(r.progress().skippedSteps).isEqualTo(2L);
    assertThat(r.lastCheckpoint().step).isEqualTo(100L);
    assertThat(r.parity().withinBound).isTrue();
  }

  @Test
  void aWrongTokenGetsNothing() {
    trainer.body.set(REPORT);
    poller.refresh("job", uri(), "guess");
    eventually(() -> assertThat(trainer.refused.get()).isEqualTo(1));
    poller.refresh("job", uri(), "guess");
    eventually(() -> assertThat(trainer.refused.get()).isEqualTo(2));
    assertThat(poller.latest("job")).isEmpty();
  }

  @Test
  void aSlowTrainerNeverBlocksTheCaller() {
    trainer.body.set(REPORT);
    trainer.delay.set(Duration.ofSeconds(5));
    long start = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      poller.refresh("job", uri(), "s3cret");
    }
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(elapsedMs).isLessThan(1000);
    assertThat(poller.latest("job")).isEmpty();
    eventually(() -> assertThat(trainer.requests.get()).isEqualTo(1));
  }

  @Test
  void aDeadTrainerLeavesTheLastReportInPlace() {
    trainer.body.set(REPORT);
    poller.refresh("job", uri(), "s3cret");
    eventually(() -> assertThat(poller.latest("job")).isPresent());
    trainer.close();
    poller.refresh("job", uri(), "s3cret");
    assertThat(poller.latest("job").orElseThrow().progress().step).isEqualTo(120L);
  }

  @Test
  void theEndpointIsRankZerosIpAndItsMetricsPort() {
    Pod pod =
        new PodBuilder()
            .withNewSpec()
            .addNewContainer()
            .withName("trainer")
            .addNewPort()
            .withName("metrics")
            .withContainerPort(9400)
            .endPort()
            .addNewEnv()
            .withName("MPJ_METRICS_PORT")
            .withValue("19411")
            .endEnv()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPodIP("127.0.0.1")
            .endStatus()
            .build();
    assertThat(ProgressPoller.endpoint(pod, 9400))
        .contains(URI.create("http://127.0.0.1:19411/progress"));
    pod.getStatus().setPodIP(null);
    assertThat(ProgressPoller.endpoint(pod, 9400)).isEmpty();
  }

  @Test
  void aReadThatEndsAtOnceLeavesTheNextReadFree() {
    // A read can end before the poller attaches its callback (a refused connection, a trainer
    // that answers within the call): the callback then runs on the caller's thread. That read
    // once kept the job marked as being read for good, and its progress was never read again.
    AtomicInteger sends = new AtomicInteger();
    try (ProgressPoller atOnce =
        new ProgressPoller(
            Duration.ofMillis(300),
            Clock.systemUTC(),
            request -> {
              sends.incrementAndGet();
              return CompletableFuture.failedFuture(new ConnectException("refused"));
            })) {
      atOnce.refresh("job", uri(), "s3cret");
      atOnce.refresh("job", uri(), "s3cret");
      atOnce.refresh("job", uri(), "s3cret");
    }
    assertThat(sends).hasValue(3);
  }
}
