package dev.mpj.operator.metrics;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * {@link MetricsEndpoint} alone on its own port, for Prometheus (the chart's port named metrics).
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  /** Starts on {@code port} (0: any free port) on all interfaces. */
  public static MetricsServer start(int port, MetricsEndpoint endpoint) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
      server.createContext(MetricsEndpoint.PATH, endpoint);
      server.setExecutor(
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "mpj-metrics");
                t.setDaemon(true);
                return t;
              }));
      server.start();
      return new MetricsServer(server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on port " + port + " for metrics", e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
