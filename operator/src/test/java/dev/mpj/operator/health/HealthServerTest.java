package dev.mpj.operator.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private int get(int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  @Test
  void probesFollowTheOperatorAndMoreEndpointsPlugIn() throws Exception {
    AtomicBoolean live = new AtomicBoolean(true);
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HealthServer server =
        HealthServer.start(
            0,
            live::get,
            ready::get,
            Map.of(
                "/metrics",
                exchange -> {
                  exchange.sendResponseHeaders(200, -1);
                  exchange.close();
                }))) {
      assertThat(get(server.port(), "/healthz")).isEqualTo(200);
      assertThat(get(server.port(), "/readyz")).isEqualTo(503);
      ready.set(true);
      live.set(false);
      assertThat(get(server.port(), "/readyz")).isEqualTo(200);
      assertThat(get(server.port(), "/healthz")).isEqualTo(503);
      assertThat(get(server.port(), "/metrics")).isEqualTo(200);
    }
  }
}
