package dev.mpj.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.chart.OperatorPermissions.Grant;
import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OwnerReferencesPermissionEnforcement admission plugin (on by default in OpenShift): creating
 * an object with an owner reference whose {@code blockOwnerDeletion} is true needs {@code update}
 * on the owner's {@code finalizers} subresource, else the API server refuses the create (403).
 * Records, per User-Agent, the grants it checked, so that the RBAC test counts them as used.
 */
public final class OwnerReferencesPermissionEnforcement {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final OperatorPermissions granted;
  private final Set<String> checked = ConcurrentHashMap.newKeySet();

  public OwnerReferencesPermissionEnforcement(OperatorPermissions granted) {
    this.granted = granted;
  }

  /** The API server's refusal of this request, or empty when the plugin lets it through. */
  public Optional<MockResponse> refusal(RecordedRequest request) {
    if (!"POST".equalsIgnoreCase(request.getMethod()) || request.getBody() == null) {
      return Optional.empty();
    }
    Set<Grant> needed = needed(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
    Set<Grant> all = granted.allGrants();
    for (Grant grant : needed) {
      checked.add(request.getHeader("User-Agent") + "\n" + grantKey(grant));
      if (!all.contains(grant)) {
        return Optional.of(
            new MockResponse()
                .setResponseCode(403)
                .setBody(
                    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                        + "\"message\":\"cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set"
                        + " finalizers on: User cannot update resource "
                        + grant.resource()
                        + " in API group "
                        + grant.apiGroup()
                        + "\"}"));
      }
    }
    return Optional.empty();
  }

  /** The grants the plugin checked for requests with this User-Agent. */
  public Set<Grant> checkedFor(String userAgent) {
    Set<Grant> grants = new LinkedHashSet<>();
    for (String entry : checked) {
      String[] parts = entry.split("\n", -1);
      if (parts[0].equals(userAgent)) {
        grants.add(new Grant(parts[1], parts[2], parts[3]));
      }
    }
    return grants;
  }

  /** The finalizers grants an object's owner references with blockOwnerDeletion need. */
  static Set<Grant> needed(String body) {
    Set<Grant> needed = new LinkedHashSet<>();
    JsonNode object;
    try {
      object = JSON.readTree(body);
    } catch (IOException e) {
      return needed;
    }
    if (object == null) {
      return needed;
    }
    for (JsonNode ref : object.path("metadata").path("ownerReferences")) {
      if (ref.path("blockOwnerDeletion").asBoolean(false)) {
        String apiVersion = ref.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.split("/")[0] : "";
        String resource = Pluralize.toPlural(ref.path("kind").asText().toLowerCase(Locale.ROOT));
        needed.add(new Grant(group, resource + "/finalizers", "update"));
      }
    }
    return needed;
  }

  private static String grantKey(Grant g) {
    return g.apiGroup() + "\n" + g.resource() + "\n" + g.verb();
  }
}
