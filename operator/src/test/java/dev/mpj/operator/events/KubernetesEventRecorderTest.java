package dev.mpj.operator.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.MockCluster;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Events of one occurrence are written once, however often a reconcile repeats its decision. */
class KubernetesEventRecorderTest {
  private MockCluster cluster;
  private KubernetesEventRecorder recorder;
  private MixedPrecisionJob job;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    recorder = new KubernetesEventRecorder(cluster.client, Clock.systemUTC());
    job = cluster.apply(MockCluster.quickstart("alpha"));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private List<String> reasons() {
    return cluster.events("alpha").stream().map(Event::getReason).sorted().toList();
  }

  // Found by ApiServerFaultsTest (seed 75572): a reconcile whose status write failed ran again and
  // recorded its Restarting event a second time.
  @Test
  void theSameEventOfTheSameOccurrenceIsRecordedOnce() {
    JobEvent restarting =
        JobEvent.normal("Restarting", "restart 1: attempt 2, restarting from step 10");
    recorder.record(job, restarting, "generation=1 attempt=2 restarts=1 disruptions=0");
    recorder.record(job, restarting, "generation=1 attempt=2 restarts=1 disruptions=0");
    assertThat(reasons()).containsExactly("Restarting");
  }

  @Test
  void anotherOccurrenceOrAnotherEventIsRecordedAgain() {
    JobEvent restarting = JobEvent.normal("Restarting", "restart: attempt 2");
    recorder.record(job, restarting, "generation=1 attempt=2 restarts=1 disruptions=0");
    recorder.record(job, restarting, "generation=1 attempt=3 restarts=2 disruptions=0");
    recorder.record(
        job,
        JobEvent.warning("ReplicaFailed", "pod alpha-worker-1 failed"),
        "generation=1 attempt=3 restarts=2 disruptions=0");
    assertThat(reasons()).containsExactly("ReplicaFailed", "Restarting", "Restarting");
  }

  @Test
  void eventsWithoutAnOccurrenceAreAllRecorded() {
    JobEvent deleted = JobEvent.normal("Deleted", "runPolicy.ttlSecondsAfterFinished expired");
    recorder.record(job, deleted);
    recorder.record(job, deleted);
    assertThat(reasons()).containsExactly("Deleted", "Deleted");
  }
}
