package dev.mpj.local;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.List;

/**
 * The OpenAPI v3 documents kubectl reads: {@code /openapi/v3} (the index of group-versions) and
 * {@code /openapi/v3/apis/GROUP/VERSION}, the CRD's schema as the API server publishes it (the
 * kind's schema under {@code components.schemas} with its {@code x-kubernetes-group-version-kind},
 * and the paths whose operations accept {@code fieldValidation}, so that {@code kubectl apply}
 * leaves validation to the server and {@code kubectl explain} finds the fields). Built-in kinds are
 * not described: {@code kubectl explain} of a pod needs a real cluster.
 */
final class OpenApiDispatcher extends Dispatcher {
  private final CustomResourceDefinition crd;
  private final Dispatcher next;

  OpenApiDispatcher(CustomResourceDefinition crd, Dispatcher next) {
    this.crd = crd;
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if ("GET".equals(request.getMethod())) {
      String path = ApiJson.path(request);
      if ("/openapi/v3".equals(path) || "/openapi/v3/".equals(path)) {
        return ApiJson.ok(index());
      }
      for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
        if (path.equals("/openapi/v3/" + groupVersionPath(v))) {
          return ApiJson.ok(document(v));
        }
      }
    }
    return next.dispatch(request);
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  private String groupVersionPath(CustomResourceDefinitionVersion v) {
    return "apis/" + crd.getSpec().getGroup() + "/" + v.getName();
  }

  private ObjectNode index() {
    ObjectNode root = ApiJson.JSON.createObjectNode();
    ObjectNode paths = root.putObject("paths");
    for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
      String gv = groupVersionPath(v);
      String hash = Integer.toHexString(ApiJson.write(document(v)).hashCode());
      paths.putObject(gv).put("serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash);
    }
    return root;
  }

  /** The schema's name, as the API server derives it from the group (reversed) and kind. */
  String schemaName(CustomResourceDefinitionVersion v) {
    List<String> parts = new java.util.ArrayList<>(List.of(crd.getSpec().getGroup().split("\\.")));
    java.util.Collections.reverse(parts);
    return String.join(".", parts) + "." + v.getName() + "." + crd.getSpec().getNames().getKind();
  }

  ObjectNode document(CustomResourceDefinitionVersion v) {
    ObjectNode doc = ApiJson.JSON.createObjectNode();
    doc.put("openapi", "3.0.0");
    doc.putObject("info").put("title", "Kubernetes").put("version", DiscoveryDispatcher.VERSION);
    String kind = crd.getSpec().getNames().getKind();
    String plural = crd.getSpec().getNames().getPlural();
    String ref = "#/components/schemas/" + schemaName(v);
    ObjectNode paths = doc.putObject("paths");
    String base = "/" + groupVersionPath(v) + "/namespaces/{namespace}/" + plural;
    operations(paths.putObject(base), List.of("get", "post"), ref, v);
    operations(paths.putObject(base + "/{name}"), List.of("get", "put", "patch", "delete"), ref, v);

    ObjectNode schema = (ObjectNode) ApiJson.JSON.valueToTree(v.getSchema().getOpenAPIV3Schema());
    ObjectNode properties = schema.with("properties");
    properties
        .putObject("apiVersion")
        .put("type", "string")
        .put(
            "description",
            "APIVersion defines the versioned schema of this representation of an object.");
    properties
        .putObject("kind")
        .put("type", "string")
        .put(
            "description",
            "Kind is a string value representing the REST resource this object represents.");
    properties
        .putObject("metadata")
        .put("type", "object")
        .put(
            "description",
            "Standard object's metadata: name, namespace, labels, annotations, ownerReferences.");
    if (!schema.has("description")) {
      schema.put("description", kind + " is the Schema for the " + plural + " API");
    }
    gvk(schema.putArray("x-kubernetes-group-version-kind"), v);
    doc.putObject("components").putObject("schemas").set(schemaName(v), schema);
    return doc;
  }

  private void operations(
      ObjectNode path, List<String> verbs, String ref, CustomResourceDefinitionVersion v) {
    for (String verb : verbs) {
      ObjectNode op = path.putObject(verb);
      op.put("operationId", verb + crd.getSpec().getNames().getKind());
      ArrayNode parameters = op.putArray("parameters");
      if (List.of("post", "put", "patch").contains(verb)) {
        parameters
            .addObject()
            .put("name", "fieldValidation")
            .put("in", "query")
            .put(
                "description",
                "Ignore, Warn or Strict: what the server does with unknown or duplicate fields.")
            .putObject("schema")
            .put("type", "string")
            .put("uniqueItems", true);
        parameters
            .addObject()
            .put("name", "fieldManager")
            .put("in", "query")
            .putObject("schema")
            .put("type", "string")
            .put("uniqueItems", true);
      }
      op.putObject("responses")
          .putObject("200")
          .put("description", "OK")
          .putObject("content")
          .putObject("application/json")
          .putObject("schema")
          .put("$ref", ref);
      ObjectNode gvk = op.putObject("x-kubernetes-group-version-kind");
      gvk.put("group", crd.getSpec().getGroup());
      gvk.put("kind", crd.getSpec().getNames().getKind());
      gvk.put("version", v.getName());
      op.put("x-kubernetes-action", verb.equals("get") ? "get" : verb);
    }
  }

  private void gvk(ArrayNode list, CustomResourceDefinitionVersion v) {
    list.addObject()
        .put("group", crd.getSpec().getGroup())
        .put("kind", crd.getSpec().getNames().getKind())
        .put("version", v.getName());
  }
}
