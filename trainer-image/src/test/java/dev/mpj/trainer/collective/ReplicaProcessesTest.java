package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.TrainerContract;
import dev.mpj.testing.Eventually;
import dev.mpj.trainer.bench.CollectiveWorker;
import dev.mpj.trainer.bench.ReplicaProcesses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replicas as separate JVMs, as bin/mpj local and the pods run them. */
class ReplicaProcessesTest {

  private static final List<String> JVM =
      List.of("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @TempDir Path dir;
  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void stopAll() {
    processes.forEach(Process::destroyForcibly);
  }

  private List<Process> start(RendezvousConfig config, String... args) throws IOException {
    List<Process> started = ReplicaProcesses.startAll(config, JVM, List.of(args), dir);
    processes.addAll(started);
    return started;
  }

  private String log(int rank) throws IOException {
    return Files.readString(dir.resolve("rank-" + rank + ".log"));
  }

  private static String firstLine(Process process) throws IOException {
    return new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  @Test
  void threeProcessesBroadcastReduceAndAgreeBitForBitWhileAStrangerIsRefused() throws Exception {
    int elements = 150_001;
    int bucketBytes = 65_536;
    long seed = 9;
    RendezvousConfig config = LocalReplicas.config(3, Duration.ofSeconds(20));
    List<String> args =
        List.of(
            "check",
            Integer.toString(elements),
            "fp16",
            "mean",
            Long.toString(seed),
            Integer.toString(bucketBytes),
            dir.toString());
    Path strangerLogs = Files.createDirectory(dir.resolve("stranger"));
    RendezvousConfig strangerConfig =
        new RendezvousConfig(
            1,
            3,
            config.coordinatorHost(),
            config.coordinatorPort(),
            "a-guessed-token",
            config.operationTimeout(),
            Duration.ofSeconds(3),
            0);
    Process stranger = ReplicaProcesses.startRank(strangerConfig, JVM, args, strangerLogs);
    processes.add(stranger);
    List<Process> replicas = new ArrayList<>();
    replicas.add(ReplicaProcesses.startRank(config.withRank(0), JVM, args, dir));
    processes.addAll(replicas);
    Eventually.until(
        Duration.ofSeconds(30),
        () -> log(0).contains("refused a connection"),
        () -> "rank 0 did not refuse the stranger");
    for (int rank = 1; rank < 3; rank++) {
      replicas.add(ReplicaProcesses.startRank(config.withRank(rank), JVM, args, dir));
    }
    processes.addAll(replicas);

    List<String> lines = new ArrayList<>();
    for (int rank = 0; rank < 3; rank++) {
      lines.add(firstLine(replicas.get(rank)));
      assertThat(replicas.get(rank).waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(replicas.get(rank).exitValue()).as(log(rank)).isZero();
    }
    String payloadHash = CollectiveWorker.sha256(CollectiveWorker.samplePayload(seed));
    for (int rank = 0; rank < 3; rank++) {
      assertThat(lines.get(rank))
          .isEqualTo(
              "rank=" + rank + " broadcast=" + payloadHash + " anyTrue=true gathered=[0, 1, 2]");
    }

    List<byte[]> inputs = new ArrayList<>();
    for (int rank = 0; rank < 3; rank++) {
      inputs.add(CollectiveWorker.sampleValues(ElementType.FP16, elements, seed, rank));
    }
    byte[] expected = new byte[elements * 2];
    for (int from = 0; from < expected.length; from += bucketBytes) {
      byte[] bucket =
          RingReference.expected(
              inputs,
              ElementType.FP16,
              Reduction.MEAN,
              from,
              Math.min(expected.length, from + bucketBytes));
      System.arraycopy(bucket, 0, expected, from, bucket.length);
    }
    for (int rank = 0; rank < 3; rank++) {
      assertThat(Files.readAllBytes(dir.resolve("rank-" + rank + ".bin")))
          .as("rank %d", rank)
          .isEqualTo(expected);
    }

    assertThat(log(0)).contains("refused a connection");
    assertThat(stranger.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String strangerLog = Files.readString(strangerLogs.resolve("rank-1.log"));
    assertThat(stranger.exitValue())
        .as(strangerLog)
        .isEqualTo(TrainerContract.EXIT_REPLICAS_FAILED);
    assertThat(strangerLog).contains("failed authentication");
  }

  @Test
  void killingOneProcessMakesTheOthersExitRetryablyAtOnce() throws Exception {
    Duration timeout =
        Duration.ofSeconds(20); // long: they must notice the death, not wait for the timeout
    List<Process> replicas = start(LocalReplicas.config(3, timeout), "loop", "100000");
    for (Process replica : replicas) {
      assertThat(firstLine(replica)).isEqualTo("ready");
    }
    long start = System.nanoTime();
    replicas.get(1).destroyForcibly();
    for (int rank : new int[] {0, 2}) {
      assertThat(replicas.get(rank).waitFor(10, TimeUnit.SECONDS))
          .as("rank %d exits", rank)
          .isTrue();
      assertThat(replicas.get(rank).exitValue())
          .as(log(rank))
          .isEqualTo(TrainerContract.EXIT_REPLICAS_FAILED);
      assertThat(log(rank)).contains("PeerFailedException");
    }
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(5).toNanos());
  }

  @Test
  void aStoppedProcessMakesTheOthersExitRetryablyWithinTheTimeout() throws Exception {
    Duration timeout = Duration.ofSeconds(2);
    List<Process> replicas = start(LocalReplicas.config(3, timeout), "loop", "100000");
    for (Process replica : replicas) {
      assertThat(firstLine(replica)).isEqualTo("ready");
    }
    long start = System.nanoTime();
    Process stop =
        new ProcessBuilder("kill", "-STOP", Long.toString(replicas.get(2).pid())).start();
    assertThat(stop.waitFor()).isZero(); // alive, its connections open, but it answers nothing
    for (int rank : new int[] {0, 1}) {
      assertThat(replicas.get(rank).waitFor(15, TimeUnit.SECONDS))
          .as("rank %d exits", rank)
          .isTrue();
      assertThat(replicas.get(rank).exitValue())
          .as(log(rank))
          .isEqualTo(TrainerContract.EXIT_REPLICAS_FAILED);
      assertThat(log(rank)).contains("PeerFailedException");
    }
    assertThat(System.nanoTime() - start)
        .isLessThan(timeout.multipliedBy(2).plusSeconds(2).toNanos());
  }
}
