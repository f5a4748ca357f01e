package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers {@code Accept: application/json;as=Table;g=meta.k8s.io;v=v1} (what {@code kubectl get}
 * asks for) with a meta.k8s.io/v1 Table, as the API server's table convertors do: for the custom
 * resource, a Name column and the CRD's additionalPrinterColumns (their JSONPaths evaluated on each
 * object); for pods, Name, Ready, Status, Restarts and Age; for everything else, Name and Age. The
 * objects themselves come from the next dispatcher.
 */
final class TableDispatcher extends Dispatcher {
  private final CustomResourceDefinition crd;
  private final Dispatcher next;

  /** One column: its definition, and how a cell is read from an object. */
  record Column(String name, String type, String format, int priority, Cell cell) {}

  interface Cell {
    JsonNode of(JsonNode object, Instant now);
  }

  TableDispatcher(CustomResourceDefinition crd, Dispatcher next) {
    this.crd = crd;
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String accept = request.getHeader("Accept");
    if (!"GET".equals(request.getMethod())
        || accept == null
        || !accept.contains("as=Table")
        || "true".equals(ApiJson.query(request, "watch"))) {
      return next.dispatch(request);
    }
    MockResponse response = next.dispatch(request);
    if (response.code() != 200 || response.getBody() == null) {
      return response;
    }
    JsonNode body;
    try {
      body = ApiJson.JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return response;
    }
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(request.getPath());
    if (body == null || !body.isObject() || resource == null) {
      return response;
    }
    return ApiJson.ok(table(columns(crd, resource), body, Instant.now()));
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  static List<Column> columns(
      CustomResourceDefinition crd, ValidatingDispatcher.Resource resource) {
    List<Column> columns = new ArrayList<>();
    columns.add(new Column("Name", "string", "name", 0, (o, now) -> text(o.at("/metadata/name"))));
    if (resource.group().equals(crd.getSpec().getGroup())
        && resource.plural().equals(crd.getSpec().getNames().getPlural())) {
      for (CustomResourceColumnDefinition c :
          crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns()) {
        String path = c.getJsonPath();
        String type = c.getType();
        columns.add(
            new Column(
                c.getName(),
                type,
                c.getFormat() == null ? "" : c.getFormat(),
                c.getPriority() == null ? 0 : c.getPriority(),
                (o, now) -> cell(JsonPaths.find(o, path), type, now)));
      }
      return columns;
    }
    if (resource.group().isEmpty() && "events".equals(resource.plural())) {
      columns.clear();
      columns.add(
          new Column(
              "Last Seen",
              "string",
              "",
              0,
              (o, now) ->
                  cell(
                      o.path("lastTimestamp").isTextual()
                          ? o.path("lastTimestamp")
                          : o.at("/metadata/creationTimestamp"),
                      "date",
                      now)));
      columns.add(new Column("Type", "string", "", 0, (o, now) -> text(o.path("type"))));
      columns.add(new Column("Reason", "string", "", 0, (o, now) -> text(o.path("reason"))));
      columns.add(
          new Column(
              "Object",
              "string",
              "",
              0,
              (o, now) ->
                  text(
                      o.at("/involvedObject/kind").asText("").toLowerCase(java.util.Locale.ROOT)
                          + "/"
                          + o.at("/involvedObject/name").asText(""))));
      columns.add(new Column("Message", "string", "", 0, (o, now) -> text(o.path("message"))));
      return columns;
    }
    if (resource.group().isEmpty() && "pods".equals(resource.plural())) {
      columns.add(new Column("Ready", "string", "", 0, (o, now) -> text(ready(o))));
      columns.add(new Column("Status", "string", "", 0, (o, now) -> text(podStatus(o))));
      columns.add(
          new Column(
              "Restarts",
              "string",
              "",
              0,
              (o, now) ->
                  text(String.valueOf(o.at("/status/containerStatuses/0/restartCount").asInt(0)))));
    }
    columns.add(
        new Column(
            "Age",
            "string",
            "",
            0,
            (o, now) -> cell(o.at("/metadata/creationTimestamp"), "date", now)));
    if (resource.group().isEmpty() && "pods".equals(resource.plural())) {
      columns.add(
          new Column(
              "IP", "string", "", 1, (o, now) -> text(o.at("/status/podIP").asText("<none>"))));
      columns.add(
          new Column(
              "Node", "string", "", 1, (o, now) -> text(o.at("/spec/nodeName").asText("<none>"))));
    }
    return columns;
  }

  static ObjectNode table(List<Column> columns, JsonNode body, Instant now) {
    ObjectNode table = ApiJson.JSON.createObjectNode();
    table.put("kind", "Table");
    table.put("apiVersion", "meta.k8s.io/v1");
    ObjectNode metadata = table.putObject("metadata");
    if (body.at("/metadata/resourceVersion").isTextual()) {
      metadata.put("resourceVersion", body.at("/metadata/resourceVersion").asText());
    }
    ArrayNode definitions = table.putArray("columnDefinitions");
    for (Column c : columns) {
      definitions
          .addObject()
          .put("name", c.name())
          .put("type", c.type())
          .put("format", c.format())
          .put("description", "")
          .put("priority", c.priority());
    }
    ArrayNode rows = table.putArray("rows");
    List<JsonNode> objects = new ArrayList<>();
    if (body.has("items")) {
      body.get("items").forEach(objects::add);
    } else {
      objects.add(body);
    }
    for (JsonNode object : objects) {
      ObjectNode row = rows.addObject();
      ArrayNode cells = row.putArray("cells");
      for (Column c : columns) {
        cells.add(c.cell().of(object, now));
      }
      ObjectNode partial = row.putObject("object");
      partial.put("kind", "PartialObjectMetadata");
      partial.put("apiVersion", "meta.k8s.io/v1");
      partial.set("metadata", object.path("metadata").deepCopy());
    }
    return table;
  }

  /** A printer column's cell, typed as the API server types it; absent values are null. */
  static JsonNode cell(JsonNode value, String type, Instant now) {
    if (value == null || value.isMissingNode() || value.isNull()) {
      return JsonNodeFactory.instance.nullNode();
    }
    if ("date".equals(type) && value.isTextual()) {
      try {
        return text(age(Duration.between(Instant.parse(value.asText()), now)));
      } catch (DateTimeParseException e) {
        return text("<invalid>");
      }
    }
    if (("integer".equals(type) || "number".equals(type)) && value.isNumber()) {
      return value;
    }
    if ("boolean".equals(type) && value.isBoolean()) {
      return value;
    }
    return value.isValueNode() ? text(value.asText()) : text(ApiJson.write(value));
  }

  /** A duration as kubectl prints ages: 45s, 3m12s, 17m, 5h3m, 2d4h, 12d. */
  static String age(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 120) {
      return s + "s";
    }
    long m = s / 60;
    if (m < 10) {
      return m + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
    }
    if (m < 180) {
      return m + "m";
    }
    long h = m / 60;
    if (h < 8) {
      return h + "h" + (m % 60 == 0 ? "" : (m % 60) + "m");
    }
    if (h < 48) {
      return h + "h";
    }
    long days = h / 24;
    if (days < 8) {
      return days + "d" + (h % 24 == 0 ? "" : (h % 24) + "h");
    }
    return days + "d";
  }

  private static String ready(JsonNode pod) {
    JsonNode statuses = pod.at("/status/containerStatuses");
    int containers = pod.at("/spec/containers").size();
    int ready = 0;
    for (JsonNode s : statuses) {
      if (s.path("ready").asBoolean(false)) {
        ready++;
      }
    }
    return ready + "/" + containers;
  }

  private static String podStatus(JsonNode pod) {
    if (pod.at("/metadata/deletionTimestamp").isTextual()) {
      return "Terminating";
    }
    for (JsonNode s : pod.at("/status/containerStatuses")) {
      String waiting = s.at("/state/waiting/reason").asText("");
      if (!waiting.isEmpty()) {
        return waiting;
      }
      String terminated = s.at("/state/terminated/reason").asText("");
      if (!terminated.isEmpty()) {
        return terminated;
      }
    }
    return pod.at("/status/phase").asText("Pending");
  }

  private static JsonNode text(String s) {
    return JsonNodeFactory.instance.textNode(s);
  }

  private static JsonNode text(JsonNode node) {
    return node.isMissingNode() ? JsonNodeFactory.instance.nullNode() : node;
  }
}
