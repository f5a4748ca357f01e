package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;

/**
 * Lists as clients expect them: with their {@code metadata.resourceVersion} (the newest of their
 * items) so that a watch can start from them, and the kind of their items ({@code EventList}, not
 * the mock's {@code List}). Watches over plain HTTP are {@link HttpApiServer}'s.
 */
final class ListDispatcher extends Dispatcher {
  private final Dispatcher next;

  ListDispatcher(Dispatcher next) {
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if (!"GET".equals(request.getMethod()) || ApiJson.webSocket(request)) {
      return next.dispatch(request);
    }
    return withListVersion(next.dispatch(request));
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  private static MockResponse withListVersion(MockResponse response) {
    if (response.code() != 200 || response.getBody() == null) {
      return response;
    }
    JsonNode body;
    try {
      body = ApiJson.JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return response;
    }
    if (body == null
        || !body.isObject()
        || !body.has("items")
        || !body.path("kind").asText("").endsWith("List")) {
      return response;
    }
    ObjectNode list = (ObjectNode) body;
    // The mock names every list "List"; typed clients (kubectl describe's events) want PodList.
    JsonNode first = list.path("items").path(0);
    if ("List".equals(list.path("kind").asText()) && first.path("kind").isTextual()) {
      list.put("kind", first.path("kind").asText() + "List");
    }
    long newest = 0;
    for (JsonNode item : list.get("items")) {
      newest =
          Math.max(newest, WatchStream.version(item.at("/metadata/resourceVersion").asText("")));
    }
    ObjectNode metadata =
        list.get("metadata") instanceof ObjectNode m ? m : list.putObject("metadata");
    if (metadata.path("resourceVersion").asText("").isEmpty()) {
      metadata.put("resourceVersion", String.valueOf(newest));
    }
    return ApiJson.ok(list);
  }
}
