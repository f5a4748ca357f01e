package dev.mpj.operator.progress;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Rank 0's {@code GET /progress} as the trainer serves it: bearer token required, JSON body,
 * optional delay.
 */
public final class FakeTrainer implements AutoCloseable {
  private final HttpServer server;
  public final AtomicReference<String> token = new AtomicReference<>();
  public final AtomicReference<String> body = new AtomicReference<>("{}");
  public final AtomicReference<Duration> delay = new AtomicReference<>(Duration.ZERO);
  public final AtomicInteger requests = new AtomicInteger();
  public final AtomicInteger refused = new AtomicInteger();

  public FakeTrainer(String initialToken) {
    token.set(initialToken);
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext(
        "/progress",
        exchange -> {
          requests.incrementAndGet();
          try {
            Thread.sleep(delay.get().toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          boolean ok = auth != null && auth.equals("Bearer " + token.get());
          if (!ok) {
            refused.incrementAndGet();
          }
          byte[] bytes =
              (ok ? body.get() : "{\"error\":\"unauthorized\"}").getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(ok ? 200 : 401, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
