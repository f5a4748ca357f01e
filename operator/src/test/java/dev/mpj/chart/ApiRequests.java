package dev.mpj.chart;

import dev.mpj.chart.OperatorPermissions.Grant;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Maps the HTTP requests a Kubernetes client sent to the RBAC grant (API group, resource, verb)
 * that each one needs, as the API server's authorizer does. With the mock API server's request log,
 * a test can hold what the operator really called against operator-permissions.yaml.
 */
public final class ApiRequests {
  /**
   * Grants every authenticated user has through the default system:basic-user ClusterRole, so the
   * chart need not grant them. JOSDK's leader election creates a SelfSubjectRulesReview at start to
   * check its access to leases.
   */
  public static final Set<Grant> ALLOWED_TO_EVERY_USER =
      Set.of(
          new Grant("authorization.k8s.io", "selfsubjectrulesreviews", "create"),
          new Grant("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
          new Grant("authentication.k8s.io", "selfsubjectreviews", "create"));

  private ApiRequests() {}

  /**
   * The grant a request needs; empty for non-resource URLs (discovery such as /api, /apis,
   * /version, which every authenticated user may read).
   */
  public static Optional<Grant> grantFor(String method, String pathAndQuery) {
    int q = pathAndQuery.indexOf('?');
    String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
    List<String> segments = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();

    String group;
    List<String> rest;
    if (segments.size() >= 2 && segments.get(0).equals("api")) {
      group = "";
      rest = segments.subList(2, segments.size());
    } else if (segments.size() >= 3 && segments.get(0).equals("apis")) {
      group = segments.get(1);
      rest = segments.subList(3, segments.size());
    } else {
      return Optional.empty();
    }
    if (rest.isEmpty()) {
      return Optional.empty();
    }
    if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
      rest = rest.subList(2, rest.size());
    }
    String resource = rest.get(0);
    String name = rest.size() > 1 ? rest.get(1) : null;
    if (rest.size() > 2) {
      resource = resource + "/" + rest.get(2);
    }
    boolean watch =
        Arrays.stream(query.split("&"))
            .anyMatch(p -> p.equals("watch=true") || p.equals("watch=1"));
    String verb =
        switch (method.toUpperCase()) {
          case "GET", "HEAD" -> watch ? "watch" : (name == null ? "list" : "get");
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> name == null ? "deletecollection" : "delete";
          default ->
              throw new IllegalArgumentException(
                  "unexpected HTTP method " + method + " " + pathAndQuery);
        };
    return Optional.of(new Grant(group, resource, verb));
  }

  public static Optional<Grant> grantFor(RecordedRequest request) {
    return grantFor(request.getMethod(), request.getPath());
  }

  /**
   * Takes every request the mock server has recorded so far and returns the grants they needed,
   * less those every user has ({@link #ALLOWED_TO_EVERY_USER}).
   */
  public static Set<Grant> drain(KubernetesMockServer server) throws InterruptedException {
    return drain(server, request -> true);
  }

  /**
   * {@link #drain(KubernetesMockServer)} for the requests {@code from} selects (e.g. by
   * User-Agent).
   */
  public static Set<Grant> drain(KubernetesMockServer server, Predicate<RecordedRequest> from)
      throws InterruptedException {
    Set<Grant> grants = new LinkedHashSet<>();
    RecordedRequest request;
    while ((request = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      if (from.test(request)) {
        grantFor(request).filter(g -> !ALLOWED_TO_EVERY_USER.contains(g)).ifPresent(grants::add);
      }
    }
    return grants;
  }
}
