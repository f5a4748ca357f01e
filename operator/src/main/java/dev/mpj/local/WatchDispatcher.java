package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Watches over plain HTTP, as kubectl makes them ({@code ?watch=true}, no WebSocket upgrade; the
 * mock server watches only over WebSockets). Each watch request is answered with the objects that
 * changed since its {@code resourceVersion}, as ADDED or MODIFIED events (Table rows when kubectl
 * asked for tables), sent after a short delay, and the stream then ends (the mock's responses are
 * whole bodies, not streams). Informer-based clients ({@code kubectl wait}, {@code kubectl delete})
 * watch again from the newest version they saw and so follow changes, a few seconds late at most;
 * {@code kubectl get -w} stops when its first watch ends. Deletions are not streamed (a later list
 * shows them). Lists get their {@code metadata.resourceVersion} (the newest of their items) so that
 * a watch can start from them, and the kind of their items ({@code EventList}, not the mock's
 * {@code List}).
 */
final class WatchDispatcher extends Dispatcher {
  static final Duration POLL = Duration.ofMillis(1500);

  private static final Set<String> WATCH_PARAMETERS =
      Set.of(
          "watch",
          "resourceVersion",
          "resourceVersionMatch",
          "timeoutSeconds",
          "allowWatchBookmarks",
          "sendInitialEvents");

  private final CustomResourceDefinition crd;
  private final Dispatcher next;

  WatchDispatcher(CustomResourceDefinition crd, Dispatcher next) {
    this.crd = crd;
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if (!"GET".equals(request.getMethod()) || request.getHeader("Upgrade") != null) {
      return next.dispatch(request);
    }
    String watch = ApiJson.query(request, "watch");
    if (!"true".equals(watch) && !"1".equals(watch)) {
      return withListVersion(next.dispatch(request));
    }
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(request.getPath());
    MockResponse list = next.dispatch(listRequest(request));
    if (list.code() != 200 || resource == null) {
      return list;
    }
    JsonNode items;
    try {
      items = ApiJson.JSON.readTree(list.getBody().getBytes()).path("items");
    } catch (IOException e) {
      return list;
    }
    // kubectl 1.35 starts its watches with the initial state streamed (a "watch list"): every
    // object ADDED, then a BOOKMARK marking the end of the initial events.
    boolean initialEvents = "true".equals(ApiJson.query(request, "sendInitialEvents"));
    long since = initialEvents ? 0 : version(ApiJson.query(request, "resourceVersion"));
    long newest = since;
    String accept = request.getHeader("Accept");
    boolean table = accept != null && accept.contains("as=Table");
    StringBuilder events = new StringBuilder();
    for (JsonNode item : items) {
      long rv = version(item.at("/metadata/resourceVersion").asText(""));
      newest = Math.max(newest, rv);
      if (rv <= since) {
        continue;
      }
      ObjectNode event = ApiJson.JSON.createObjectNode();
      event.put("type", since == 0 ? "ADDED" : "MODIFIED");
      event.set(
          "object",
          table
              ? TableDispatcher.table(TableDispatcher.columns(crd, resource), item, Instant.now())
              : item);
      events.append(ApiJson.write(event)).append('\n');
    }
    if (initialEvents) {
      events.append(ApiJson.write(initialEventsEnd(request, items, newest))).append('\n');
    }
    return new MockResponse()
        .setResponseCode(200)
        .setHeader("Content-Type", "application/json")
        // An empty stream still carries a newline: the server holds it back for POLL, so that the
        // client sees a watch that lasted, not one that failed at once (which it backs off from).
        .setBody(events.length() == 0 ? "\n" : events.toString())
        .setBodyDelay(events.length() == 0 ? POLL : Duration.ofMillis(100));
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  /** The BOOKMARK that ends a watch list's initial events, of the watched kind. */
  private ObjectNode initialEventsEnd(RecordedRequest request, JsonNode items, long newest) {
    String[] s = ApiJson.path(request).split("/");
    String apiVersion = "api".equals(s[1]) ? s[2] : s[2] + "/" + s[3];
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(request.getPath());
    String kind = items.path(0).path("kind").asText("");
    if (kind.isEmpty() && resource.plural().equals(crd.getSpec().getNames().getPlural())) {
      kind = crd.getSpec().getNames().getKind();
    }
    if (kind.isEmpty()) {
      kind =
          DiscoveryDispatcher.CORE.stream()
              .filter(b -> b.plural().equals(resource.plural()))
              .map(DiscoveryDispatcher.Builtin::kind)
              .findFirst()
              .orElse("");
    }
    ObjectNode event = ApiJson.JSON.createObjectNode();
    event.put("type", "BOOKMARK");
    ObjectNode object = event.putObject("object");
    object.put("kind", kind);
    object.put("apiVersion", apiVersion);
    ObjectNode metadata = object.putObject("metadata");
    metadata.put("resourceVersion", String.valueOf(newest));
    metadata.putObject("annotations").put("k8s.io/initial-events-end", "true");
    return event;
  }

  /** The same path, without the watch parameters: a list. */
  private static RecordedRequest listRequest(RecordedRequest watch) {
    String path = watch.getPath();
    int q = path.indexOf('?');
    StringBuilder query = new StringBuilder();
    if (q >= 0) {
      for (String pair : path.substring(q + 1).split("&")) {
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        if (!WATCH_PARAMETERS.contains(key) && !pair.isEmpty()) {
          query.append(query.length() == 0 ? "?" : "&").append(pair);
        }
      }
    }
    String listPath = (q < 0 ? path : path.substring(0, q)) + query;
    return new RecordedRequest(
        "HTTP/1.1", HttpMethod.GET, listPath, watch.getHeaders(), new Buffer());
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
      newest = Math.max(newest, version(item.at("/metadata/resourceVersion").asText("")));
    }
    ObjectNode metadata =
        list.get("metadata") instanceof ObjectNode m ? m : list.putObject("metadata");
    if (metadata.path("resourceVersion").asText("").isEmpty()) {
      metadata.put("resourceVersion", String.valueOf(newest));
    }
    return ApiJson.ok(list);
  }

  private static long version(String rv) {
    if (rv == null || !rv.matches("\\d{1,18}")) {
      return 0;
    }
    return Long.parseLong(rv);
  }
}
