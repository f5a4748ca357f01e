package dev.mpj.trainer.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.trainer.bench.CollectiveWorker;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reduce-scatter receives each chunk through a small reused window: with a window far smaller
 * than a chunk, and of a size that is no multiple of an element (so elements are split between
 * reads and carried over), the ring still gives the documented result bit for bit on every rank,
 * with sends written inline or by a sender thread.
 */
class RingWindowTest {

  /** Connects {@code n} ranks in a ring over loopback and runs one all-reduce on each. */
  private static List<byte[]> ring(
      int n,
      int windowBytes,
      boolean senderThread,
      ElementType type,
      Reduction reduction,
      List<byte[]> inputs)
      throws Exception {
    List<ServerSocketChannel> servers = new ArrayList<>();
    List<SocketChannel> next = new ArrayList<>();
    List<SocketChannel> prev = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(n);
    try {
      for (int r = 0; r < n; r++) {
        servers.add(
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
      }
      for (int r = 0; r < n; r++) {
        next.add(SocketChannel.open(servers.get((r + 1) % n).getLocalAddress()));
      }
      for (int r = 0; r < n; r++) {
        prev.add(servers.get(r).accept());
      }
      List<Future<byte[]>> results = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int rank = r;
        results.add(
            threads.submit(
                () -> {
                  byte[] input = inputs.get(rank);
                  ByteBuffer data =
                      ByteBuffer.allocateDirect(input.length)
                          .order(ByteOrder.LITTLE_ENDIAN)
                          .put(input)
                          .flip();
                  try (RingLinks links =
                      new RingLinks(
                          rank,
                          n,
                          next.get(rank),
                          prev.get(rank),
                          Duration.ofSeconds(20),
                          senderThread)) {
                    new RingAllReduce(links, rank, n, windowBytes)
                        .run(7, data, input.length / type.bytes(), type, reduction);
                  }
                  byte[] out = new byte[input.length];
                  data.get(0, out);
                  return out;
                }));
      }
      List<byte[]> out = new ArrayList<>();
      for (Future<byte[]> result : results) {
        out.add(result.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      threads.shutdownNow();
      for (ServerSocketChannel server : servers) {
        server.close();
      }
    }
  }

  @ParameterizedTest
  @CsvSource({
    "2, 1030, FP32, SUM, 40001",
    "2, 262144, FP32, MEAN, 300001",
    "2, 1030, FP16, MEAN, 40001",
    "3, 1030, FP32, MEAN, 40001",
    "3, 1031, FP16, SUM, 40001",
    "4, 6, FP32, MEAN, 1001",
    "3, 2, FP16, MEAN, 1001",
    "3, 1030, FP32, SUM, 2",
    "2, 4096, FP16, MEAN, 0"
  })
  void aWindowSmallerThanAChunkGivesTheReferenceBitForBit(
      int n, int windowBytes, ElementType type, Reduction reduction, int elements)
      throws Exception {
    List<byte[]> inputs = new ArrayList<>();
    for (int rank = 0; rank < n; rank++) {
      inputs.add(CollectiveWorker.sampleValues(type, elements, elements + n, rank));
    }
    byte[] expected = RingReference.expected(inputs, type, reduction);

    for (boolean senderThread : new boolean[] {false, true}) {
      List<byte[]> results = ring(n, windowBytes, senderThread, type, reduction, inputs);

      for (int rank = 0; rank < n; rank++) {
        assertThat(results.get(rank))
            .as("rank %d, sender thread %s", rank, senderThread)
            .isEqualTo(expected);
      }
    }
  }

  @Test
  void aWindowSmallerThanAnElementIsRefused() throws Exception {
    List<byte[]> inputs = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      inputs.add(CollectiveWorker.sampleValues(ElementType.FP32, 100, 1, rank));
    }
    assertThatThrownBy(() -> ring(2, 3, false, ElementType.FP32, Reduction.SUM, inputs))
        .hasRootCauseInstanceOf(IllegalArgumentException.class)
        .rootCause()
        .hasMessageContaining("window (3 bytes) holds less than one element");
  }

  @Test
  void aSuccessorThatLeavesFailsTheSenderThreadPromptly() throws Exception {
    try (ServerSocketChannel server =
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel next = SocketChannel.open(server.getLocalAddress());
        SocketChannel successorEnd = server.accept();
        ServerSocketChannel server2 =
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel predecessorEnd = SocketChannel.open(server2.getLocalAddress());
        SocketChannel prev = server2.accept()) {
      successorEnd.close(); // rank 1 is gone; its other end stays open and silent
      ByteBuffer data = ByteBuffer.allocateDirect(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
      long start = System.nanoTime();
      try (RingLinks links = new RingLinks(0, 2, next, prev, Duration.ofSeconds(30), true)) {
        assertThatThrownBy(
                () ->
                    new RingAllReduce(links, 0, 2)
                        .run(1, data, data.capacity() / 4, ElementType.FP32, Reduction.SUM))
            .isInstanceOf(PeerFailedException.class)
            .hasMessageContaining("rank 1");
      }
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
      assertThat(predecessorEnd.isOpen()).isTrue();
    }
  }

  @Test
  void aSuccessorThatStopsReadingFailsTheSenderThreadWithinTheTimeout() throws Exception {
    try (ServerSocketChannel server =
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel next = SocketChannel.open(server.getLocalAddress());
        SocketChannel successorEnd = server.accept(); // open, never read
        ServerSocketChannel server2 =
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel predecessorEnd = SocketChannel.open(server2.getLocalAddress());
        SocketChannel prev = server2.accept()) {
      int bytes = 64 << 20;
      int chunk = bytes / 2;
      // The predecessor sends its whole first message, so rank 0's receive completes and only its
      // send, to a successor that reads nothing, is left.
      Thread predecessor =
          new Thread(
              () -> {
                ByteBuffer message = ByteBuffer.allocateDirect(RingLinks.HEADER_BYTES + chunk);
                message.putInt(1).putInt(RingAllReduce.KIND).putInt(chunk).clear();
                try {
                  while (message.hasRemaining()) {
                    predecessorEnd.write(message);
                  }
                } catch (java.io.IOException e) {
                  // rank 0 closed its end: the test's assertions say what happened
                }
              });
      predecessor.start();
      ByteBuffer data = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
      long start = System.nanoTime();
      try (RingLinks links = new RingLinks(0, 2, next, prev, Duration.ofSeconds(2), true)) {
        assertThatThrownBy(
                () ->
                    new RingAllReduce(links, 0, 2)
                        .run(1, data, bytes / 4, ElementType.FP32, Reduction.SUM))
            .isInstanceOf(PeerFailedException.class)
            .hasMessage("rank 1 read nothing for 2.0 s");
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      assertThat(seconds).isBetween(2L, 20L);
      predecessor.join(10_000);
      assertThat(successorEnd.isOpen()).isTrue();
    }
  }
}
