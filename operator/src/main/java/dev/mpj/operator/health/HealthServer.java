package dev.mpj.operator.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz} (liveness) and {@code /readyz} (readiness) for the kubelet's probes, plus any
 * further handlers (a metrics registry's scrape endpoint plugs in here).
 */
public final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  /** Starts on {@code port} (0: any free port) on all interfaces. */
  public static HealthServer start(
      int port, BooleanSupplier live, BooleanSupplier ready, Map<String, HttpHandler> more) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
      server.createContext("/healthz", probe(live));
      server.createContext("/readyz", probe(ready));
      more.forEach(server::createContext);
      server.setExecutor(
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "mpj-health");
                t.setDaemon(true);
                return t;
              }));
      server.start();
      return new HealthServer(server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on port " + port + " for health probes", e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static HttpHandler probe(BooleanSupplier check) {
    return exchange -> {
      boolean ok;
      try {
        ok = check.getAsBoolean();
      } catch (RuntimeException e) {
        ok = false;
      }
      respond(exchange, ok ? 200 : 503, ok ? "ok\n" : "not ok\n");
    };
  }

  private static void respond(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
