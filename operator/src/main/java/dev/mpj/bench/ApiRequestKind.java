package dev.mpj.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What an API request does, in the words of {@code kubectl}'s verbs: {@code list pods}, {@code get
 * mixedprecisionjobs}, {@code update mixedprecisionjobs/status}, {@code watch pods}, with {@code
 * (all namespaces)} after a collection read across namespaces. A pure function of the method and
 * the address.
 */
public final class ApiRequestKind {
  private ApiRequestKind() {}

  public static String of(String method, URI uri) {
    // /api/v1/... or /apis/GROUP/VERSION/...
    List<String> parts =
        new ArrayList<>(Arrays.stream(uri.getPath().split("/")).filter(s -> !s.isEmpty()).toList());
    int skip = !parts.isEmpty() && parts.get(0).equals("api") ? 2 : 3;
    if (parts.size() <= skip) {
      return method.toLowerCase() + " " + uri.getPath();
    }
    List<String> rest = parts.subList(skip, parts.size());
    boolean namespaced = rest.size() >= 3 && rest.get(0).equals("namespaces");
    if (namespaced) {
      rest = rest.subList(2, rest.size());
    }
    String resource = rest.get(0);
    boolean named = rest.size() >= 2;
    String sub = rest.size() >= 3 ? "/" + rest.get(2) : "";
    String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
    String verb =
        switch (method) {
          case "GET" ->
              query.contains("watch=true") || query.contains("watch=1")
                  ? "watch"
                  : named ? "get" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> method.toLowerCase();
        };
    boolean everywhere = !named && !namespaced && !clusterScoped(resource);
    return verb + " " + resource + sub + (everywhere ? " (all namespaces)" : "");
  }

  /** Whether this kind of request reads every pod of the cluster (a LIST, not a watch). */
  public static boolean listsAllPods(String kind) {
    return kind.equals("list pods (all namespaces)");
  }

  private static boolean clusterScoped(String resource) {
    return switch (resource) {
      case "nodes",
          "namespaces",
          "customresourcedefinitions",
          "persistentvolumes",
          "clusterroles",
          "clusterrolebindings",
          "selfsubjectrulesreviews",
          "selfsubjectaccessreviews",
          "priorityclasses",
          "clusterqueues",
          "resourceflavors" ->
          true;
      default -> false;
    };
  }
}
