package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Field selectors on lists ({@code ?fieldSelector=involvedObject.name=x,metadata.name!=y}), as
 * {@code kubectl describe} (events of an object) and {@code kubectl wait} (one object by name) send
 * them: the list comes from the next dispatcher without the selector, and its items are kept when
 * every term holds for the field's value ({@code =}, {@code ==}, {@code !=}; a missing field reads
 * as the empty string).
 */
final class FieldSelectorDispatcher extends Dispatcher {
  private final Dispatcher next;

  /** One term: a dotted field path, and the value it must (or must not) have. */
  record Term(String field, String value, boolean equal) {
    boolean holds(JsonNode object) {
      JsonNode node = JsonPaths.find(object, "." + field);
      String actual = node.isValueNode() ? node.asText() : "";
      return actual.equals(value) == equal;
    }
  }

  FieldSelectorDispatcher(Dispatcher next) {
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String selector = ApiJson.query(request, "fieldSelector");
    if (!"GET".equals(request.getMethod()) || selector == null || selector.isEmpty()) {
      return next.dispatch(request);
    }
    List<Term> terms = parse(selector);
    MockResponse response =
        next.dispatch(
            new RecordedRequest(
                "HTTP/1.1",
                request.method(),
                withoutSelector(request.getPath()),
                request.getHeaders(),
                request.getBody()));
    if (response.code() != 200 || response.getBody() == null) {
      return response;
    }
    JsonNode body;
    try {
      body = ApiJson.JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return response;
    }
    if (body == null || !body.has("items") || !body.get("items").isArray()) {
      return response;
    }
    ArrayNode kept = ApiJson.JSON.createArrayNode();
    for (JsonNode item : body.get("items")) {
      if (terms.stream().allMatch(t -> t.holds(item))) {
        kept.add(item);
      }
    }
    ((ObjectNode) body).set("items", kept);
    return ApiJson.ok(body);
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  static List<Term> parse(String selector) {
    List<Term> terms = new ArrayList<>();
    for (String term : selector.split(",")) {
      int ne = term.indexOf("!=");
      if (ne > 0) {
        terms.add(new Term(term.substring(0, ne).trim(), term.substring(ne + 2).trim(), false));
        continue;
      }
      int eq = term.indexOf('=');
      if (eq > 0) {
        String value = term.substring(eq + 1);
        if (value.startsWith("=")) {
          value = value.substring(1);
        }
        terms.add(new Term(term.substring(0, eq).trim(), value.trim(), true));
      }
    }
    return terms;
  }

  private static String withoutSelector(String path) {
    int q = path.indexOf('?');
    if (q < 0) {
      return path;
    }
    StringBuilder rest = new StringBuilder();
    for (String pair : path.substring(q + 1).split("&")) {
      if (!pair.startsWith("fieldSelector=") && !pair.isEmpty()) {
        rest.append(rest.length() == 0 ? "?" : "&").append(pair);
      }
    }
    return path.substring(0, q) + rest;
  }
}
