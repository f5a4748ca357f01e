package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One watch as kubectl asks for it over plain HTTP ({@code ?watch=true}): which objects it sees
 * (the resource of its path, its namespace, its field and label selectors), from which resource
 * version on, for how long, and how each event is written: one JSON object a line, whose object is
 * the changed object, or a meta.k8s.io/v1 Table of its row when the request asked for tables (as
 * {@code kubectl get -w} does). The streaming itself is {@link HttpApiServer}'s.
 */
record WatchStream(
    ValidatingDispatcher.Resource resource,
    String apiVersion,
    String kind,
    String namespace,
    List<FieldSelectorDispatcher.Term> fields,
    LabelSelector labels,
    List<TableDispatcher.Column> columns,
    long resourceVersion,
    boolean initialEvents,
    Duration timeout) {

  /** A watch that names no timeout ends after this long, as the API server's default. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30);

  private static final Set<String> WATCH_PARAMETERS =
      Set.of(
          "watch",
          "resourceVersion",
          "resourceVersionMatch",
          "timeoutSeconds",
          "allowWatchBookmarks",
          "sendInitialEvents");

  /** The watch this request asks for, or null when it is no plain-HTTP watch of a collection. */
  static WatchStream of(RecordedRequest request, CustomResourceDefinition crd) {
    String watch = ApiJson.query(request, "watch");
    if (!"GET".equals(request.getMethod())
        || ApiJson.webSocket(request)
        || !("true".equals(watch) || "1".equals(watch))) {
      return null;
    }
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(request.getPath());
    if (resource == null) {
      return null;
    }
    String[] s = ApiJson.path(request).split("/");
    boolean core = "api".equals(s[1]);
    String apiVersion = core ? s[2] : s[2] + "/" + s[3];
    int plural = core ? 3 : 4;
    String namespace = null;
    if ("namespaces".equals(s[plural]) && s.length > plural + 2) {
      namespace = s[plural + 1];
      plural += 2;
    }
    List<FieldSelectorDispatcher.Term> fields = new ArrayList<>();
    String selector = ApiJson.query(request, "fieldSelector");
    if (selector != null && !selector.isEmpty()) {
      fields.addAll(FieldSelectorDispatcher.parse(selector));
    }
    if (s.length > plural + 1) {
      fields.add(new FieldSelectorDispatcher.Term("metadata.name", s[plural + 1], true));
    }
    String accept = request.getHeader("Accept");
    boolean table = accept != null && accept.contains("as=Table");
    String timeout = ApiJson.query(request, "timeoutSeconds");
    return new WatchStream(
        resource,
        apiVersion,
        kindOf(resource, crd),
        namespace,
        List.copyOf(fields),
        LabelSelector.parse(ApiJson.query(request, "labelSelector")),
        table ? TableDispatcher.columns(crd, resource) : null,
        version(ApiJson.query(request, "resourceVersion")),
        "true".equals(ApiJson.query(request, "sendInitialEvents")),
        timeout != null && timeout.matches("\\d{1,9}")
            ? Duration.ofSeconds(Long.parseLong(timeout))
            : DEFAULT_TIMEOUT);
  }

  /** Whether the watch sees this object: its kind, namespace, fields and labels. */
  boolean matches(JsonNode object) {
    if (!kind.equals(object.path("kind").asText())
        || !apiVersion.equals(object.path("apiVersion").asText())) {
      return false;
    }
    if (namespace != null && !namespace.equals(object.at("/metadata/namespace").asText())) {
      return false;
    }
    return fields.stream().allMatch(t -> t.holds(object)) && labels.matches(object);
  }

  /** The initial state's events start from nothing; otherwise from the version asked for. */
  long since() {
    return initialEvents ? 0 : resourceVersion;
  }

  /** One event, as a line of the stream. */
  String event(String type, JsonNode object, Instant now) {
    ObjectNode event = ApiJson.JSON.createObjectNode();
    event.put("type", type);
    event.set("object", columns == null ? object : TableDispatcher.table(columns, object, now));
    return ApiJson.write(event) + "\n";
  }

  /** The BOOKMARK that ends a watch list's initial events, of the watched kind. */
  String initialEventsEnd(long newest) {
    ObjectNode event = ApiJson.JSON.createObjectNode();
    event.put("type", "BOOKMARK");
    ObjectNode object = event.putObject("object");
    object.put("kind", kind);
    object.put("apiVersion", apiVersion);
    ObjectNode metadata = object.putObject("metadata");
    metadata.put("resourceVersion", String.valueOf(newest));
    metadata.putObject("annotations").put("k8s.io/initial-events-end", "true");
    return ApiJson.write(event) + "\n";
  }

  /** The same collection listed as JSON, without the watch's parameters. */
  static RecordedRequest listRequest(RecordedRequest watch) {
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
        "HTTP/1.1",
        HttpMethod.GET,
        listPath,
        Headers.builder().add("Accept", "application/json").build(),
        new Buffer());
  }

  /** The kind of a resource's objects: the CRD's, a built-in's, or the CRD kind's own. */
  static String kindOf(ValidatingDispatcher.Resource resource, CustomResourceDefinition crd) {
    if (resource.group().equals(crd.getSpec().getGroup())
        && resource.plural().equals(crd.getSpec().getNames().getPlural())) {
      return crd.getSpec().getNames().getKind();
    }
    if ("customresourcedefinitions".equals(resource.plural())) {
      return "CustomResourceDefinition";
    }
    return DiscoveryDispatcher.CORE.stream()
        .filter(b -> resource.group().isEmpty() && b.plural().equals(resource.plural()))
        .map(DiscoveryDispatcher.Builtin::kind)
        .findFirst()
        .orElse("");
  }

  static long version(String rv) {
    if (rv == null || !rv.matches("\\d{1,18}")) {
      return 0;
    }
    return Long.parseLong(rv);
  }
}
