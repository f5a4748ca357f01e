package dev.mpj.trainer.metrics;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;

/** What both endpoints answer alike: reads only, a body with its type. */
final class HttpResponses {
  private HttpResponses() {}

  /** True for GET and HEAD; anything else is answered 405 here. */
  static boolean readOnly(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    if ("GET".equals(method) || "HEAD".equals(method)) {
      return true;
    }
    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
    exchange.sendResponseHeaders(405, -1);
    return false;
  }

  static void send(HttpExchange exchange, String contentType, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    if ("HEAD".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(200, -1);
      return;
    }
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
