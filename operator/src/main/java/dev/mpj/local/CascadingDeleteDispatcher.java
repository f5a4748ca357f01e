package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.util.List;

/**
 * The garbage collector of the local cluster: when an object is deleted, the pods, services, config
 * maps, secrets and claims in its namespace that name it in their {@code ownerReferences} are
 * deleted too (and theirs in turn), as the cluster's garbage collector removes dependents whose
 * owner is gone. The mock server deletes at once (no finalizers here), so the dependents go right
 * after their owner.
 */
public final class CascadingDeleteDispatcher extends Dispatcher {
  /** The kinds an MPJ job owns, by the core API's plural names. */
  static final List<String> DEPENDENT_KINDS =
      List.of("pods", "services", "configmaps", "secrets", "persistentvolumeclaims");

  private final Dispatcher next;

  public CascadingDeleteDispatcher(Dispatcher next) {
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if (!"DELETE".equals(request.getMethod())) {
      return next.dispatch(request);
    }
    String path = ApiJson.path(request);
    String[] s = path.split("/");
    // /api/v1/namespaces/NS/PLURAL/NAME or /apis/G/V/namespaces/NS/PLURAL/NAME
    int ns = "api".equals(s.length > 1 ? s[1] : "") ? 3 : 4;
    if (s.length != ns + 4 || !"namespaces".equals(s[ns])) {
      return next.dispatch(request);
    }
    String namespace = s[ns + 1];
    JsonNode owner = get(path);
    MockResponse response = next.dispatch(request);
    if (owner != null && response.code() >= 200 && response.code() < 300) {
      deleteDependents(namespace, owner.at("/metadata/uid").asText(""));
    }
    return response;
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  private void deleteDependents(String namespace, String uid) {
    if (uid.isEmpty()) {
      return;
    }
    for (String kind : DEPENDENT_KINDS) {
      String list = "/api/v1/namespaces/" + namespace + "/" + kind;
      JsonNode items = get(list);
      if (items == null) {
        continue;
      }
      for (JsonNode item : items.path("items")) {
        for (JsonNode ref : item.at("/metadata/ownerReferences")) {
          if (uid.equals(ref.path("uid").asText())) {
            String name = item.at("/metadata/name").asText();
            // Through this dispatcher again: the dependent's own dependents go too.
            dispatch(request(HttpMethod.DELETE, list + "/" + name));
            break;
          }
        }
      }
    }
  }

  private JsonNode get(String path) {
    MockResponse response = next.dispatch(request(HttpMethod.GET, path));
    if (response.code() != 200 || response.getBody() == null) {
      return null;
    }
    try {
      return ApiJson.JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return null;
    }
  }

  private static RecordedRequest request(HttpMethod method, String path) {
    return new RecordedRequest(
        "HTTP/1.1",
        method,
        path,
        Headers.builder().add("Accept", "application/json").build(),
        new Buffer());
  }
}
