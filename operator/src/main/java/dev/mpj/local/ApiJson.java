package dev.mpj.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

/** JSON answers of the local API server: objects, and metav1.Status failures. */
final class ApiJson {
  static final ObjectMapper JSON = new ObjectMapper();

  private ApiJson() {}

  static MockResponse ok(JsonNode body) {
    return new MockResponse()
        .setResponseCode(200)
        .setHeader("Content-Type", "application/json")
        .setBody(write(body));
  }

  /** A metav1.Status of this code, reason and message. */
  static MockResponse failure(int code, String reason, String message) {
    ObjectNode status = JSON.createObjectNode();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", reason);
    status.put("code", code);
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(write(status));
  }

  static String write(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether the request asks to become a WebSocket (not an HTTP/2 upgrade, {@code h2c}). */
  static boolean webSocket(RecordedRequest request) {
    return "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
  }

  /** The request's path without its query. */
  static String path(RecordedRequest request) {
    String path = request.getPath();
    int query = path.indexOf('?');
    return query < 0 ? path : path.substring(0, query);
  }

  /** The value of one query parameter, or null. */
  static String query(RecordedRequest request, String name) {
    return query(request.getPath(), name);
  }

  /** The value of one query parameter of {@code path}, or null. */
  static String query(String path, String name) {
    int query = path.indexOf('?');
    if (query < 0) {
      return null;
    }
    for (String pair : path.substring(query + 1).split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return eq < 0
            ? ""
            : java.net.URLDecoder.decode(
                pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
