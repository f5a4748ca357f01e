package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.validation.InvalidJobException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the other replicas see when one dies, hangs, falls out of step, or never comes. */
class FaultTest {

  /** What a rank's body ended with: the exception it threw (or null) and when. */
  private record Outcome(Throwable error, long nanos) {}

  private static Outcome attempt(ReplicaGroup group, Runnable body) {
    long start = System.nanoTime();
    try {
      body.run();
      return new Outcome(null, System.nanoTime() - start);
    } catch (RuntimeException e) {
      return new Outcome(e, System.nanoTime() - start);
    }
  }

  @Test
  void aPeerThatLeavesFailsTheOthersPromptlyNotAtTheTimeout() throws Exception {
    RendezvousConfig config = LocalReplicas.config(3, Duration.ofSeconds(30));
    List<Outcome> outcomes =
        LocalReplicas.run(
            config,
            group -> {
              byte[] gradient = new byte[400_000];
              group.allReduce(gradient, ElementType.FP32, Reduction.MEAN);
              if (group.rank() == 1) {
                group.close(); // as a killed process would: its sockets close
                return null;
              }
              Outcome outcome =
                  attempt(
                      group,
                      () -> {
                        for (int i = 0; i < 1000; i++) {
                          group.allReduce(gradient, ElementType.FP32, Reduction.MEAN);
                        }
                      });
              assertThatThrownBy(() -> group.anyTrue(false))
                  .isInstanceOf(CollectiveException.class)
                  .hasMessageContaining("failed earlier");
              return outcome;
            });
    for (int rank : new int[] {0, 2}) {
      assertThat(outcomes.get(rank).error()).isInstanceOf(PeerFailedException.class);
      assertThat(outcomes.get(rank).nanos()).isLessThan(Duration.ofSeconds(5).toNanos());
    }
  }

  @Test
  void aPeerThatStopsAnsweringFailsTheOthersWithinTheTimeout() throws Exception {
    Duration timeout = Duration.ofMillis(1500);
    RendezvousConfig config = LocalReplicas.config(3, timeout);
    List<Outcome> outcomes =
        LocalReplicas.run(
            config,
            group -> {
              byte[] gradient = new byte[40_000];
              group.allReduce(gradient, ElementType.FP16, Reduction.SUM);
              if (group.rank() == 1) {
                Thread.sleep(timeout.multipliedBy(3).toMillis()); // alive, connected, silent
              }
              return attempt(
                  group, () -> group.allReduce(gradient, ElementType.FP16, Reduction.SUM));
            });
    for (int rank : new int[] {0, 2}) {
      assertThat(outcomes.get(rank).error())
          .as("rank %d", rank)
          .isInstanceOf(PeerFailedException.class);
      assertThat(outcomes.get(rank).nanos())
          .as("rank %d", rank)
          .isBetween(timeout.toNanos() / 2, timeout.multipliedBy(2).plusSeconds(1).toNanos());
    }
    assertThat(outcomes.get(1).error())
        .isInstanceOf(PeerFailedException.class); // its neighbours left meanwhile
  }

  @Test
  void replicasOutOfStepFailInsteadOfSummingTheWrongBytes() throws Exception {
    RendezvousConfig config = LocalReplicas.config(2, Duration.ofSeconds(10));
    List<Outcome> outcomes =
        LocalReplicas.run(
            config,
            group ->
                attempt(
                    group,
                    () ->
                        group.allReduce(
                            new byte[4 * (10 + 2 * group.rank())],
                            ElementType.FP32,
                            Reduction.SUM)));
    assertThat(outcomes)
        .allSatisfy(outcome -> assertThat(outcome.error()).isInstanceOf(CollectiveException.class));
    assertThat(outcomes)
        .anySatisfy(outcome -> assertThat(outcome.error()).hasMessageContaining("out of step"));
  }

  @Test
  void aRendezvousThatNeverCompletesFailsAtItsTimeout() throws Exception {
    RendezvousConfig config =
        LocalReplicas.config(3, Duration.ofSeconds(5))
            .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(1500));
    // Ranks 0 and 1 come, rank 2 never does.
    CompletableFuture<ReplicaGroup> coordinator =
        CompletableFuture.supplyAsync(() -> ReplicaGroup.join(config.withRank(0)));
    long start = System.nanoTime();
    assertThatThrownBy(() -> ReplicaGroup.join(config.withRank(1)))
        .isInstanceOf(RendezvousException.class);
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(5).toNanos());
    assertThatThrownBy(() -> coordinator.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(RendezvousException.class)
        .hasMessageContaining("[2]");
  }

  @Test
  void aPeerThatDiesDuringTheRendezvousFailsTheGangSoonNotAtTheRendezvousTimeout()
      throws Exception {
    RendezvousConfig config =
        LocalReplicas.config(3, Duration.ofSeconds(1))
            .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(120));
    List<Future<Object>> ranks =
        LocalReplicas.start(List.of(config.withRank(0), config.withRank(1)), group -> null);
    // Rank 2 registers (it knows the token), receives the ring's addresses, and dies before
    // connecting.
    int deadPort = LocalReplicas.freePort();
    long start;
    try (Socket rank2 = LocalReplicas.connect(config.coordinatorPort())) {
      rank2.setSoTimeout(30_000);
      new Handshake(LocalReplicas.TOKEN, 3, 0).asClient(rank2, Handshake.Purpose.COORDINATOR, 2, 0);
      DataOutputStream out = new DataOutputStream(rank2.getOutputStream());
      out.writeUTF("127.0.0.1");
      out.writeInt(deadPort);
      out.flush();
      assertThat(new DataInputStream(rank2.getInputStream()).readInt()).isEqualTo(3);
      start = System.nanoTime();
    }
    for (Future<Object> rank : ranks) {
      assertThatThrownBy(() -> rank.get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(RendezvousException.class);
    }
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(20).toNanos());
  }

  @Test
  void badEnvironmentIsABadConfigNamingTheVariable() {
    assertThatThrownBy(
            () -> RendezvousConfig.fromEnv(Map.of("MPJ_WORLD_SIZE", "3", "MPJ_RANK", "3")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MPJ_RANK");
    assertThatThrownBy(
            () ->
                RendezvousConfig.fromEnv(
                    Map.of(
                        "MPJ_WORLD_SIZE",
                        "2",
                        "MPJ_RANK",
                        "1",
                        "MPJ_COORDINATOR_ADDR",
                        "10.0.0.1",
                        "MPJ_COORDINATOR_PORT",
                        "29500")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MPJ_JOB_TOKEN");
    assertThatThrownBy(() -> RendezvousConfig.fromEnv(Map.of("MPJ_WORLD_SIZE", "two")))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("MPJ_WORLD_SIZE");
    assertThatThrownBy(
            () -> RendezvousConfig.fromEnv(Map.of("MPJ_COLLECTIVE_TIMEOUT_SECONDS", "-1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MPJ_COLLECTIVE_TIMEOUT_SECONDS");

    RendezvousConfig config =
        RendezvousConfig.fromEnv(
            Map.of(
                "MPJ_WORLD_SIZE",
                "4",
                "MPJ_RANK",
                "2",
                "MPJ_COORDINATOR_ADDR",
                "trainer-0.job",
                "MPJ_COORDINATOR_PORT",
                "29500",
                "MPJ_JOB_TOKEN",
                "s3cret",
                "MPJ_COLLECTIVE_TIMEOUT_SECONDS",
                "2.5",
                "MPJ_ATTEMPT",
                "3"));
    assertThat(config.attempt()).isEqualTo(3);
    assertThat(config.rank()).isEqualTo(2);
    assertThat(config.operationTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(config.rendezvousTimeout()).isEqualTo(RendezvousConfig.DEFAULT_RENDEZVOUS_TIMEOUT);
    assertThat(RendezvousConfig.fromEnv(config.toEnv())).isEqualTo(config);
    assertThat(config.toString()).doesNotContain("s3cret");
    assertThat(RendezvousConfig.fromEnv(Map.of())).isEqualTo(RendezvousConfig.single());
  }
}
