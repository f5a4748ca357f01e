package dev.mpj.trainer.metrics;

import com.sun.net.httpserver.HttpServer;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One replica's HTTP port: {@code GET /metrics} (Prometheus) and {@code GET /progress} (the
 * operator's), served by a daemon thread while the replica trains.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * The port to serve on: {@code --metrics-port} when given, else {@code MPJ_METRICS_PORT}, else
   * none (no server). 0 takes any free port.
   */
  public static Integer port(Integer flag, Map<String, String> env) {
    if (flag != null) {
      return checked("--metrics-port", flag);
    }
    OptionalInt port = TrainerContract.intVariable(env, TrainerContract.ENV_METRICS_PORT);
    return port.isPresent() ? checked(TrainerContract.ENV_METRICS_PORT, port.getAsInt()) : null;
  }

  private static int checked(String field, int port) {
    if (port < 0 || port > 65535) {
      throw new InvalidJobException(
          field, "must be a port number in [0, 65535] (got " + port + ")");
    }
    return port;
  }

  /** Listens on {@code port} on all interfaces; {@code token} guards /progress (null: open). */
  public static MetricsServer start(int port, TrainerMetrics metrics, String token)
      throws IOException {
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(port), 0);
    } catch (IOException e) {
      throw new IOException(
          "cannot serve /metrics and /progress on port " + port + ": " + e.getMessage(), e);
    }
    http.createContext(
        "/metrics",
        exchange -> {
          try (exchange) {
            if (HttpResponses.readOnly(exchange)) {
              HttpResponses.send(
                  exchange,
                  PrometheusTextFormatWriter.CONTENT_TYPE,
                  metrics.scrape().getBytes(StandardCharsets.UTF_8));
            }
          }
        });
    http.createContext(ProgressEndpoint.PATH, new ProgressEndpoint(metrics, token));
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "mpj-metrics");
              t.setDaemon(true);
              return t;
            });
    http.setExecutor(executor);
    http.start();
    return new MetricsServer(http, executor);
  }

  /** The port it listens on (the free one taken for port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
