package dev.mpj.trainer.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code GET /progress}: {@link TrainerMetrics#progress()} as JSON, for the operator. With a job
 * token (the pod's {@code MPJ_JOB_TOKEN}) it answers only {@code Authorization: Bearer <token>},
 * and 401 to anything else; without one (a standalone run) it is open.
 */
public final class ProgressEndpoint implements HttpHandler {
  public static final String PATH = "/progress";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TrainerMetrics metrics;
  private final byte[] expectedAuthorization;

  /**
   * @param token the job's token; null or blank: no authentication
   */
  public ProgressEndpoint(TrainerMetrics metrics, String token) {
    this.metrics = metrics;
    this.expectedAuthorization =
        token == null || token.isBlank()
            ? null
            : ("Bearer " + token.trim()).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!HttpResponses.readOnly(exchange)) {
        return;
      }
      if (!authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"mpj-trainer\"");
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      HttpResponses.send(exchange, "application/json", JSON.writeValueAsBytes(metrics.progress()));
    }
  }

  /**
   * Compares in constant time: the answer's timing says nothing about how much of the token
   * matched.
   */
  private boolean authorized(String header) {
    if (expectedAuthorization == null) {
      return true;
    }
    byte[] given = header == null ? new byte[0] : header.trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, expectedAuthorization);
  }
}
