package dev.mpj.trainer.collective;

import dev.mpj.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs N replicas as threads of this JVM, each joining over loopback TCP as a real replica would.
 */
final class LocalReplicas {

  interface Body<T> {
    T run(ReplicaGroup group) throws Exception;
  }

  static final String TOKEN = "test-job-token-0123456789";

  private LocalReplicas() {}

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A connection to {@code port} on this machine, once something listens there. */
  static Socket connect(int port) throws Exception {
    return Eventually.await(
        Duration.ofSeconds(10),
        () -> {
          try {
            return new Socket("127.0.0.1", port);
          } catch (IOException e) {
            return null;
          }
        },
        () -> "nothing listens on port " + port);
  }

  static RendezvousConfig config(int worldSize, Duration operationTimeout) {
    return new RendezvousConfig(
        0, worldSize, "127.0.0.1", freePort(), TOKEN, operationTimeout, Duration.ofSeconds(20), 0);
  }

  /**
   * Joins every rank of {@code config}, runs {@code body} on each, and returns the results by rank.
   */
  static <T> List<T> run(RendezvousConfig config, Body<T> body) throws Exception {
    return results(start(config, body));
  }

  static <T> List<T> results(List<Future<T>> futures) throws Exception {
    List<T> results = new ArrayList<>();
    for (Future<T> future : futures) {
      try {
        results.add(future.get(60, TimeUnit.SECONDS));
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
    }
    return results;
  }

  static <T> List<Future<T>> start(RendezvousConfig config, Body<T> body) {
    List<RendezvousConfig> configs = new ArrayList<>();
    for (int rank = 0; rank < config.worldSize(); rank++) {
      configs.add(config.withRank(rank));
    }
    return start(configs, body);
  }

  /** Starts one thread per config (each its own rank), running {@code body} on the joined group. */
  static <T> List<Future<T>> start(List<RendezvousConfig> configs, Body<T> body) {
    ExecutorService threads = Executors.newFixedThreadPool(configs.size());
    List<Future<T>> futures = new ArrayList<>();
    for (RendezvousConfig mine : configs) {
      futures.add(
          threads.submit(
              () -> {
                try (ReplicaGroup group = ReplicaGroup.join(mine)) {
                  return body.run(group);
                }
              }));
    }
    threads.shutdown();
    return futures;
  }
}
