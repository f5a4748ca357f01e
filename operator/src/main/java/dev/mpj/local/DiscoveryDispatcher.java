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
 * The discovery documents kubectl reads before anything else: {@code /version}, {@code /api},
 * {@code /apis} and each group-version's resource list, for the kinds the local cluster holds (the
 * CRD's from its names, short names and categories). {@code /api} and {@code /apis} answer in the
 * aggregated form (apidiscovery.k8s.io/v2, every group's resources in one document) when the
 * request asks for it, as kubectl 1.35 does first, and in the legacy form otherwise. Every other
 * request goes to the next dispatcher.
 */
final class DiscoveryDispatcher extends Dispatcher {
  static final String VERSION = "v1.35.0";

  private static final List<String> ALL_VERBS =
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

  /** A built-in resource: plural, kind, namespaced, short names. */
  record Builtin(String plural, String kind, boolean namespaced, List<String> shortNames) {}

  static final List<Builtin> CORE =
      List.of(
          new Builtin("pods", "Pod", true, List.of("po")),
          new Builtin("events", "Event", true, List.of("ev")),
          new Builtin("services", "Service", true, List.of("svc")),
          new Builtin("configmaps", "ConfigMap", true, List.of("cm")),
          new Builtin("secrets", "Secret", true, List.of()),
          new Builtin("persistentvolumeclaims", "PersistentVolumeClaim", true, List.of("pvc")),
          new Builtin("serviceaccounts", "ServiceAccount", true, List.of("sa")),
          new Builtin("nodes", "Node", false, List.of("no")),
          new Builtin("namespaces", "Namespace", false, List.of("ns")));

  /** The media type of aggregated discovery, as kubectl asks for it and reads it back. */
  static final String AGGREGATED_TYPE =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

  private static final String AGGREGATED_AS = "as=APIGroupDiscoveryList";

  private final CustomResourceDefinition crd;
  private final Dispatcher next;

  DiscoveryDispatcher(CustomResourceDefinition crd, Dispatcher next) {
    this.crd = crd;
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if ("GET".equals(request.getMethod())) {
      String path = ApiJson.path(request);
      if (path.endsWith("/") && path.length() > 1) {
        path = path.substring(0, path.length() - 1);
      }
      String group = crd.getSpec().getGroup();
      String accept = request.getHeader("Accept");
      boolean aggregated = accept != null && accept.contains(AGGREGATED_AS);
      if (aggregated && ("/api".equals(path) || "/apis".equals(path))) {
        return aggregated("/api".equals(path) ? coreDiscovery() : groupsDiscovery());
      }
      switch (path) {
        case "/version":
          return ApiJson.ok(version());
        case "/api":
          return ApiJson.ok(apiVersions());
        case "/apis":
          return ApiJson.ok(apiGroups());
        case "/api/v1":
          return ApiJson.ok(coreResources());
        case "/apis/apiextensions.k8s.io/v1":
          return ApiJson.ok(crdResources());
        default:
          for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
            if (path.equals("/apis/" + group + "/" + v.getName())) {
              return ApiJson.ok(customResources(v));
            }
          }
      }
    }
    return next.dispatch(request);
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  private static ObjectNode version() {
    ObjectNode v = ApiJson.JSON.createObjectNode();
    v.put("major", "1");
    v.put("minor", "35");
    v.put("gitVersion", VERSION + "+mpj-local");
    v.put("gitCommit", "");
    v.put("gitTreeState", "clean");
    v.put("buildDate", "2026-01-01T00:00:00Z");
    v.put("goVersion", "");
    v.put("compiler", "mpj-local");
    v.put("platform", "linux/amd64");
    return v;
  }

  private static ObjectNode apiVersions() {
    ObjectNode v = ApiJson.JSON.createObjectNode();
    v.put("kind", "APIVersions");
    v.putArray("versions").add("v1");
    ArrayNode addresses = v.putArray("serverAddressByClientCIDRs");
    ObjectNode any = addresses.addObject();
    any.put("clientCIDR", "0.0.0.0/0");
    any.put("serverAddress", "127.0.0.1");
    return v;
  }

  private ObjectNode apiGroups() {
    ObjectNode list = ApiJson.JSON.createObjectNode();
    list.put("kind", "APIGroupList");
    list.put("apiVersion", "v1");
    ArrayNode groups = list.putArray("groups");
    group(groups, "apiextensions.k8s.io", List.of("v1"));
    group(
        groups,
        crd.getSpec().getGroup(),
        crd.getSpec().getVersions().stream()
            .filter(CustomResourceDefinitionVersion::getServed)
            .map(CustomResourceDefinitionVersion::getName)
            .toList());
    return list;
  }

  private static void group(ArrayNode groups, String name, List<String> versions) {
    ObjectNode g = groups.addObject();
    g.put("name", name);
    ArrayNode vs = g.putArray("versions");
    for (String v : versions) {
      vs.addObject().put("groupVersion", name + "/" + v).put("version", v);
    }
    g.putObject("preferredVersion")
        .put("groupVersion", name + "/" + versions.get(0))
        .put("version", versions.get(0));
  }

  private static ObjectNode resourceList(String groupVersion) {
    ObjectNode list = ApiJson.JSON.createObjectNode();
    list.put("kind", "APIResourceList");
    list.put("apiVersion", "v1");
    list.put("groupVersion", groupVersion);
    list.putArray("resources");
    return list;
  }

  private static ObjectNode resource(
      ObjectNode list, String name, String kind, boolean namespaced, List<String> verbs) {
    ObjectNode r = ((ArrayNode) list.get("resources")).addObject();
    r.put("name", name);
    r.put("singularName", name.contains("/") ? "" : kind.toLowerCase(java.util.Locale.ROOT));
    r.put("namespaced", namespaced);
    r.put("kind", kind);
    ArrayNode vs = r.putArray("verbs");
    verbs.forEach(vs::add);
    return r;
  }

  private static ObjectNode coreResources() {
    ObjectNode list = resourceList("v1");
    for (Builtin b : CORE) {
      ObjectNode r = resource(list, b.plural(), b.kind(), b.namespaced(), ALL_VERBS);
      ArrayNode shortNames = r.putArray("shortNames");
      b.shortNames().forEach(shortNames::add);
      if ("pods".equals(b.plural())) {
        r.putArray("categories").add("all");
      }
      if ("services".equals(b.plural())) {
        r.putArray("categories").add("all");
      }
    }
    resource(list, "pods/log", "Pod", true, List.of("get"));
    resource(list, "pods/status", "Pod", true, List.of("get", "patch", "update"));
    return list;
  }

  private static ObjectNode crdResources() {
    ObjectNode list = resourceList("apiextensions.k8s.io/v1");
    resource(list, "customresourcedefinitions", "CustomResourceDefinition", false, ALL_VERBS)
        .putArray("shortNames")
        .add("crd")
        .add("crds");
    return list;
  }

  private ObjectNode customResources(CustomResourceDefinitionVersion version) {
    var names = crd.getSpec().getNames();
    ObjectNode list = resourceList(crd.getSpec().getGroup() + "/" + version.getName());
    boolean namespaced = "Namespaced".equals(crd.getSpec().getScope());
    ObjectNode r = resource(list, names.getPlural(), names.getKind(), namespaced, ALL_VERBS);
    r.put("singularName", names.getSingular());
    ArrayNode shortNames = r.putArray("shortNames");
    if (names.getShortNames() != null) {
      names.getShortNames().forEach(shortNames::add);
    }
    ArrayNode categories = r.putArray("categories");
    if (names.getCategories() != null) {
      names.getCategories().forEach(categories::add);
    }
    if (version.getSubresources() != null && version.getSubresources().getStatus() != null) {
      resource(
          list,
          names.getPlural() + "/status",
          names.getKind(),
          namespaced,
          List.of("get", "patch", "update"));
    }
    return list;
  }

  private static MockResponse aggregated(ObjectNode list) {
    return new MockResponse()
        .setResponseCode(200)
        .setHeader("Content-Type", AGGREGATED_TYPE)
        .setBody(ApiJson.write(list));
  }

  private static ObjectNode discoveryList() {
    ObjectNode list = ApiJson.JSON.createObjectNode();
    list.put("kind", "APIGroupDiscoveryList");
    list.put("apiVersion", "apidiscovery.k8s.io/v2");
    list.putObject("metadata");
    list.putArray("items");
    return list;
  }

  /** {@code /api} aggregated: the core group, whose name is empty. */
  private static ObjectNode coreDiscovery() {
    ObjectNode list = discoveryList();
    groupDiscovery(list, "", List.of(coreResources()));
    return list;
  }

  /** {@code /apis} aggregated: the CRDs' group and the MixedPrecisionJob's. */
  private ObjectNode groupsDiscovery() {
    ObjectNode list = discoveryList();
    groupDiscovery(list, "apiextensions.k8s.io", List.of(crdResources()));
    groupDiscovery(
        list,
        crd.getSpec().getGroup(),
        crd.getSpec().getVersions().stream()
            .filter(CustomResourceDefinitionVersion::getServed)
            .map(this::customResources)
            .toList());
    return list;
  }

  /**
   * One APIGroupDiscovery from the group's legacy resource lists (one a version, preferred first):
   * each resource with its subresources ({@code pods/log}) nested under it.
   */
  static void groupDiscovery(ObjectNode list, String group, List<ObjectNode> resourceLists) {
    ObjectNode item = ((ArrayNode) list.get("items")).addObject();
    ObjectNode metadata = item.putObject("metadata");
    if (!group.isEmpty()) {
      metadata.put("name", group);
    }
    ArrayNode versions = item.putArray("versions");
    for (ObjectNode resourceList : resourceLists) {
      String groupVersion = resourceList.path("groupVersion").asText();
      String version = groupVersion.substring(groupVersion.indexOf('/') + 1);
      ObjectNode v = versions.addObject();
      v.put("version", version);
      ArrayNode resources = v.putArray("resources");
      java.util.Map<String, ObjectNode> byName = new java.util.LinkedHashMap<>();
      for (var r : resourceList.path("resources")) {
        String name = r.path("name").asText();
        ObjectNode kind = ApiJson.JSON.createObjectNode();
        kind.put("group", group);
        kind.put("version", version);
        kind.put("kind", r.path("kind").asText());
        int slash = name.indexOf('/');
        if (slash < 0) {
          ObjectNode d = resources.addObject();
          d.put("resource", name);
          d.set("responseKind", kind);
          d.put("scope", r.path("namespaced").asBoolean() ? "Namespaced" : "Cluster");
          d.put("singularResource", r.path("singularName").asText());
          d.set("verbs", r.path("verbs").deepCopy());
          if (r.has("shortNames")) {
            d.set("shortNames", r.get("shortNames").deepCopy());
          }
          if (r.has("categories")) {
            d.set("categories", r.get("categories").deepCopy());
          }
          byName.put(name, d);
        } else {
          ObjectNode parent = byName.get(name.substring(0, slash));
          if (parent == null) {
            continue;
          }
          ArrayNode subresources =
              parent.has("subresources")
                  ? (ArrayNode) parent.get("subresources")
                  : parent.putArray("subresources");
          ObjectNode sub = subresources.addObject();
          sub.put("subresource", name.substring(slash + 1));
          sub.set("responseKind", kind);
          sub.set("verbs", r.path("verbs").deepCopy());
        }
      }
      v.put("freshness", "Current");
    }
  }
}
