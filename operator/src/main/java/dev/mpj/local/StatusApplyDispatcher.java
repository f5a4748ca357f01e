package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-side apply ({@code application/apply-patch+yaml}) of a status subresource, which the mock
 * store cannot apply (it answers 415), as the operator sends it: one field manager applying the
 * whole status. The mock store keeps no managed fields, so the applied status replaces the stored
 * one: what a real API server stores when one manager owns every status field (a field that another
 * manager set would be kept by a real API server, and is not here). As a real API server: a
 * fieldManager is required (400), a resourceVersion in the applied object is a precondition (409
 * when the object changed since), a missing object is 404, and only the status changes. Any other
 * request goes to the next dispatcher unchanged (an apply to anything but a status still gets 415).
 */
public final class StatusApplyDispatcher extends Dispatcher {
  private static final String STATUS = "/status";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Dispatcher next;

  public StatusApplyDispatcher(Dispatcher next) {
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String path = ApiJson.path(request);
    if (!"PATCH".equals(request.getMethod())
        || !String.valueOf(request.getHeader("Content-Type")).startsWith("application/apply-patch")
        || !path.endsWith(STATUS)) {
      return next.dispatch(request);
    }
    String manager = ApiJson.query(request, "fieldManager");
    if (manager == null || manager.isBlank()) {
      return ApiJson.failure(
          400,
          "BadRequest",
          "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for"
              + " apply patch");
    }
    JsonNode applied;
    try {
      byte[] body = request.getBody().getBytes();
      // JSON is YAML; clients (fabric8's among them) send JSON, which the JSON parser reads in a
      // fraction of the YAML parser's time.
      applied = startsAsJson(body) ? ApiJson.JSON.readTree(body) : YAML.readTree(body);
    } catch (IOException | RuntimeException e) {
      return ApiJson.failure(400, "BadRequest", "error decoding YAML: " + e.getMessage());
    }
    if (applied == null || !applied.isObject()) {
      return ApiJson.failure(400, "BadRequest", "the applied configuration is not an object");
    }
    String objectPath = path.substring(0, path.length() - STATUS.length());
    MockResponse found = next.dispatch(request(HttpMethod.GET, objectPath, null));
    if (found.code() != 200 || found.getBody() == null) {
      return found;
    }
    ObjectNode stored;
    try {
      stored = (ObjectNode) ApiJson.JSON.readTree(found.getBody().getBytes());
    } catch (IOException e) {
      return ApiJson.failure(500, "InternalError", "the stored object is not JSON: " + e);
    }
    String name = stored.at("/metadata/name").asText("");
    String appliedName = applied.at("/metadata/name").asText(name);
    if (!appliedName.equals(name)) {
      return ApiJson.failure(
          400,
          "BadRequest",
          "the name of the object ("
              + appliedName
              + ") does not match the name on the URL ("
              + name
              + ")");
    }
    String version = applied.at("/metadata/resourceVersion").asText("");
    if (!version.isEmpty() && !version.equals(stored.at("/metadata/resourceVersion").asText())) {
      return ApiJson.failure(
          409,
          "Conflict",
          "Operation cannot be fulfilled on "
              + resourceName(objectPath)
              + " \""
              + name
              + "\": the object has been modified; please apply your changes to the latest"
              + " version and try again");
    }
    ObjectNode replaced = stored.deepCopy();
    if (applied.hasNonNull("status")) {
      replaced.set("status", applied.get("status"));
    } else {
      replaced.remove("status");
    }
    // A replace of the status as of the version read: a change in between is a 409 too.
    return next.dispatch(request(HttpMethod.PUT, path, ApiJson.write(replaced)));
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  /** Whether the first character that is not white space opens a JSON object. */
  static boolean startsAsJson(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b == '{';
      }
    }
    return false;
  }

  /** {@code plural.group} of a resource path, as the API server names it in a conflict. */
  private static String resourceName(String objectPath) {
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(objectPath);
    if (resource == null) {
      return "objects";
    }
    return resource.group().isEmpty()
        ? resource.plural()
        : resource.plural() + "." + resource.group();
  }

  private static RecordedRequest request(HttpMethod method, String path, String body) {
    Headers.Builder headers = Headers.builder().add("Accept", "application/json");
    Buffer buffer = new Buffer();
    if (body != null) {
      headers.add("Content-Type", "application/json");
      buffer.write(body.getBytes(StandardCharsets.UTF_8));
    }
    return new RecordedRequest("HTTP/1.1", method, path, headers.build(), buffer);
  }
}
