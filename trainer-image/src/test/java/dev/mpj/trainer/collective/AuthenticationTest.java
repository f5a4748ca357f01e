package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.trainer.bench.CollectiveWorker;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every connection proves the job token both ways before anything else; strangers are dropped. */
class AuthenticationTest {

  private static final String WRONG_TOKEN = "not-the-job-token";

  /**
   * Runs a server handshake on one end of a loopback connection and a client handshake on the
   * other.
   */
  private static Object[] handshake(
      String serverToken, String clientToken, int clientRank, int expectedByServer)
      throws Exception {
    return handshake(serverToken, clientToken, clientRank, expectedByServer, 0);
  }

  private static Object[] handshake(
      String serverToken,
      String clientToken,
      int clientRank,
      int expectedByServer,
      int clientAttempt)
      throws Exception {
    try (ServerSocket listener = new ServerSocket(0)) {
      CompletableFuture<Object> server =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket socket = listener.accept()) {
                  socket.setSoTimeout(5000);
                  return new Handshake(serverToken, 3, 0)
                      .asServer(socket, Handshake.Purpose.RING, 2, expectedByServer);
                } catch (IOException e) {
                  return e;
                }
              });
      Object client;
      try (Socket socket = new Socket("127.0.0.1", listener.getLocalPort())) {
        socket.setSoTimeout(5000);
        new Handshake(clientToken, 3, clientAttempt)
            .asClient(socket, Handshake.Purpose.RING, clientRank, 2);
        client = "accepted";
      } catch (IOException e) {
        client = e;
      }
      return new Object[] {server.get(10, TimeUnit.SECONDS), client};
    }
  }

  @Test
  void theSameTokenAuthenticatesBothWaysAndTheWrongOneNeither() throws Exception {
    Object[] good = handshake(LocalReplicas.TOKEN, LocalReplicas.TOKEN, 1, 1);
    assertThat(good).containsExactly(1, "accepted");

    Object[] wrong = handshake(LocalReplicas.TOKEN, WRONG_TOKEN, 1, 1);
    assertThat(wrong[0])
        .isInstanceOf(IOException.class); // the client hung up: it could not check the server
    assertThat(wrong[1]).isInstanceOf(Handshake.AuthenticationException.class);

    Object[] wrongRank = handshake(LocalReplicas.TOKEN, LocalReplicas.TOKEN, 0, 1);
    assertThat(wrongRank[0]).isInstanceOf(Handshake.AuthenticationException.class);
    assertThat((Exception) wrongRank[0]).hasMessageContaining("expected rank 1");
    assertThat(wrongRank[1]).isInstanceOf(IOException.class);

    Object[] earlierAttempt = handshake(LocalReplicas.TOKEN, LocalReplicas.TOKEN, 1, 1, 1);
    assertThat(earlierAttempt[0]).isInstanceOf(IOException.class); // the straggler hung up
    assertThat((Exception) earlierAttempt[1])
        .isInstanceOf(Handshake.AuthenticationException.class)
        .hasMessageContaining("from attempt 0, this replica from attempt 1");
  }

  @Test
  void aStrangerAtTheCoordinatorIsDroppedWithoutLearningTheTokenAndTheJobCompletes()
      throws Exception {
    RendezvousConfig config = LocalReplicas.config(3, Duration.ofSeconds(20));
    // Rank 0 first, then a stranger claiming rank 1 who answers the challenge with a guess.
    List<Future<byte[]>> coordinator =
        LocalReplicas.start(List.of(config.withRank(0)), AuthenticationTest::reduce);
    ByteArrayOutputStream seenByStranger = new ByteArrayOutputStream();
    int strangerRead;
    try (Socket stranger = LocalReplicas.connect(config.coordinatorPort())) {
      stranger.setSoTimeout(10_000);
      byte[] hello =
          ByteBuffer.allocate(49)
              .put("MPJ1".getBytes(StandardCharsets.US_ASCII))
              .put((byte) 0)
              .putInt(1)
              .putInt(3)
              .putInt(0)
              .put(new byte[32])
              .array();
      stranger.getOutputStream().write(hello);
      byte[] reply = new byte[49 + 32];
      new DataInputStream(stranger.getInputStream()).readFully(reply);
      seenByStranger.write(reply);
      stranger.getOutputStream().write(new byte[32]); // a proof it cannot compute
      strangerRead = readToEnd(stranger.getInputStream(), seenByStranger);
    }
    assertThat(strangerRead).as("no verdict byte: the connection just closes").isZero();
    assertThat(new String(seenByStranger.toByteArray(), StandardCharsets.ISO_8859_1))
        .doesNotContain(LocalReplicas.TOKEN);

    // A second stranger with the wrong token cannot even verify the coordinator.
    try (Socket stranger = LocalReplicas.connect(config.coordinatorPort())) {
      stranger.setSoTimeout(10_000);
      assertThatThrownBy(
              () ->
                  new Handshake(WRONG_TOKEN, 3, 0)
                      .asClient(stranger, Handshake.Purpose.COORDINATOR, 2, 0))
          .isInstanceOf(Handshake.AuthenticationException.class);
    }

    // A third connects and says nothing: it must not hold up the right peers.
    try (Socket silent = LocalReplicas.connect(config.coordinatorPort())) {
      List<Future<byte[]>> ranks = new ArrayList<>(coordinator);
      ranks.addAll(
          LocalReplicas.start(
              List.of(config.withRank(1), config.withRank(2)), AuthenticationTest::reduce));
      assertReducedCorrectly(LocalReplicas.results(ranks));
    }
  }

  @Test
  void aStrangerAtARingListenerIsDroppedAndTheRingFormsWithTheRightPeer() throws Exception {
    RendezvousConfig base = LocalReplicas.config(3, Duration.ofSeconds(20));
    int ringPort = LocalReplicas.freePort();
    RendezvousConfig rank1 =
        new RendezvousConfig(
            1,
            3,
            base.coordinatorHost(),
            base.coordinatorPort(),
            base.jobToken(),
            base.operationTimeout(),
            base.rendezvousTimeout(),
            ringPort);
    List<Future<byte[]>> ranks =
        new ArrayList<>(
            LocalReplicas.start(List.of(base.withRank(0), rank1), AuthenticationTest::reduce));
    // Rank 1 listens for its predecessor (rank 0) once it has joined; a stranger gets there first.
    Socket stranger = LocalReplicas.connect(ringPort);
    CompletableFuture<Exception> strangerOutcome =
        CompletableFuture.supplyAsync(
            () -> {
              try (stranger) {
                stranger.setSoTimeout(15_000);
                new Handshake(WRONG_TOKEN, 3, 0).asClient(stranger, Handshake.Purpose.RING, 0, 1);
                return null;
              } catch (IOException e) {
                return e;
              }
            });
    ranks.addAll(LocalReplicas.start(List.of(base.withRank(2)), AuthenticationTest::reduce));
    assertReducedCorrectly(LocalReplicas.results(ranks));
    assertThat(strangerOutcome.get(20, TimeUnit.SECONDS)).isInstanceOf(IOException.class);
  }

  private static final int ELEMENTS = 10_007;

  private static byte[] reduce(ReplicaGroup group) {
    byte[] gradient = CollectiveWorker.sampleValues(ElementType.FP32, ELEMENTS, 21, group.rank());
    group.allReduce(gradient, ElementType.FP32, Reduction.MEAN);
    return gradient;
  }

  private static void assertReducedCorrectly(List<byte[]> results) {
    List<byte[]> inputs = new ArrayList<>();
    for (int rank = 0; rank < results.size(); rank++) {
      inputs.add(CollectiveWorker.sampleValues(ElementType.FP32, ELEMENTS, 21, rank));
    }
    byte[] expected = RingReference.expected(inputs, ElementType.FP32, Reduction.MEAN);
    assertThat(results).allSatisfy(result -> assertThat(result).isEqualTo(expected));
  }

  private static int readToEnd(InputStream in, ByteArrayOutputStream into) throws IOException {
    int count = 0;
    for (int b = in.read(); b >= 0; b = in.read()) {
      into.write(b);
      count++;
    }
    return count;
  }
}
