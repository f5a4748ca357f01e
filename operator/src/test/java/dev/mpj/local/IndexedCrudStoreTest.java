package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The indexed store answers every request as fabric8's scanning store does: the same requests,
 * drawn from a seed (creates, conflicting creates, replaces with current and stale resource
 * versions, merge patches that change labels, deletes of one object and of a selection, deletes
 * held by finalizers, GETs by name, LISTs by namespace and by label selector), go to both, and each
 * answer must be the same code and body (uids and timestamps aside, which are drawn).
 */
class IndexedCrudStoreTest {
  private static final List<String> NAMESPACES = List.of("a", "b");
  private static final List<String> KINDS = List.of("configmaps", "pods");
  private static final List<String> SELECTORS =
      List.of(
          "app=x",
          "app==y",
          "app!=x",
          "tier",
          "!tier",
          "app=x,tier=t1",
          "app=y,tier!=t2",
          "app=z",
          "mpj.dev/job=j1");

  @Test
  void answersAsTheScanningStoreDoesForEveryRequestOfASeededSequence() throws IOException {
    for (long seed = 1; seed <= 3; seed++) {
      Dispatcher scanning = new KubernetesCrudDispatcher();
      Dispatcher indexed = new IndexedCrudStore();
      Random random = new Random(seed);
      int lists = 0;
      int found = 0;
      for (int i = 0; i < 1500; i++) {
        RecordedRequest request = next(random, scanning);
        RecordedRequest same = copy(request);
        MockResponse expected = scanning.dispatch(request);
        MockResponse actual = indexed.dispatch(same);
        String what = "seed " + seed + ", request " + i + ": " + request.method() + " " + request;
        assertThat(actual.code()).as(what).isEqualTo(expected.code());
        assertThat(normalized(actual)).as(what).isEqualTo(normalized(expected));
        if (request.method() == HttpMethod.GET && expected.code() == 200) {
          JsonNode body = ApiJson.JSON.readTree(expected.getBody().getBytes());
          if (body.has("items")) {
            lists++;
            found += body.get("items").size();
          } else {
            found++;
          }
        }
      }
      // The sequence reads something: lists and objects that exist, not only empty answers.
      assertThat(lists).isGreaterThan(100);
      assertThat(found).isGreaterThan(1000);
    }
  }

  @Test
  void readsTheLabelKeysOfASelectorThatRequireAValue() {
    assertThat(IndexedCrudStore.labelKeys("/api/v1/pods")).isEmpty();
    assertThat(
            IndexedCrudStore.labelKeys(
                "/api/v1/namespaces/a/pods?labelSelector="
                    + URLEncoder.encode("mpj.dev/job=j1,app==x,tier!=t,gpu,!spot", UTF8)))
        .containsExactly("mpj.dev/job", "app");
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  /** The next request: its kind drawn, its object from a small pool so that most collide. */
  private static RecordedRequest next(Random random, Dispatcher scanning) throws IOException {
    String namespace = NAMESPACES.get(random.nextInt(NAMESPACES.size()));
    String kind = KINDS.get(random.nextInt(KINDS.size()));
    String name = "o" + random.nextInt(8);
    String collection = "/api/v1/namespaces/" + namespace + "/" + kind;
    String one = collection + "/" + name;
    int draw = random.nextInt(100);
    if (draw < 25) {
      return request(HttpMethod.POST, collection, object(random, kind, name, namespace), null);
    }
    if (draw < 35) {
      // A replace: with the stored resource version, or (one in three) a stale one.
      MockResponse stored = scanning.dispatch(request(HttpMethod.GET, one, null, null));
      ObjectNode body = object(random, kind, name, namespace);
      if (stored.code() == 200) {
        String version =
            ApiJson.JSON
                .readTree(stored.getBody().getBytes())
                .at("/metadata/resourceVersion")
                .asText();
        ((ObjectNode) body.get("metadata"))
            .put("resourceVersion", random.nextInt(3) == 0 ? "1" : version);
      }
      return request(HttpMethod.PUT, one, body, null);
    }
    if (draw < 45) {
      ObjectNode patch = ApiJson.JSON.createObjectNode();
      ObjectNode labels = patch.putObject("metadata").putObject("labels");
      labels.put("app", random.nextBoolean() ? "x" : "y");
      if (random.nextBoolean()) {
        labels.putNull("tier");
      } else {
        labels.put("tier", "t" + random.nextInt(3));
      }
      if (random.nextInt(4) == 0) {
        // Releases a delete held by a finalizer.
        ((ObjectNode) patch.get("metadata")).putNull("finalizers");
      }
      return request(HttpMethod.PATCH, one, patch, "application/merge-patch+json");
    }
    if (draw < 52) {
      return request(HttpMethod.DELETE, one, null, null);
    }
    if (draw < 54) {
      return request(HttpMethod.DELETE, collection + selector(random), null, null);
    }
    if (draw < 70) {
      return request(HttpMethod.GET, one, null, null);
    }
    String list =
        switch (random.nextInt(4)) {
          case 0 -> "/api/v1/" + kind;
          case 1 -> "/api/v1/" + kind + selector(random);
          case 2 -> collection;
          default -> collection + selector(random);
        };
    return request(HttpMethod.GET, list, null, null);
  }

  private static String selector(Random random) {
    return "?labelSelector="
        + URLEncoder.encode(SELECTORS.get(random.nextInt(SELECTORS.size())), UTF8);
  }

  private static ObjectNode object(Random random, String kind, String name, String namespace) {
    ObjectNode object = ApiJson.JSON.createObjectNode();
    object.put("apiVersion", "v1");
    object.put("kind", kind.equals("pods") ? "Pod" : "ConfigMap");
    ObjectNode metadata = object.putObject("metadata");
    metadata.put("name", name);
    if (random.nextBoolean()) {
      metadata.put("namespace", namespace);
    }
    ObjectNode labels = metadata.putObject("labels");
    labels.put("app", random.nextBoolean() ? "x" : "y");
    if (random.nextBoolean()) {
      labels.put("tier", "t" + random.nextInt(3));
    }
    if (random.nextInt(3) == 0) {
      labels.put("mpj.dev/job", "j" + random.nextInt(2));
    }
    if (random.nextInt(8) == 0) {
      metadata.putArray("finalizers").add("mpj.dev/test");
    }
    if (kind.equals("configmaps")) {
      object.putObject("data").put("n", String.valueOf(random.nextInt(1000)));
    } else {
      object.putObject("spec").putArray("containers").addObject().put("name", "c");
    }
    return object;
  }

  private static RecordedRequest request(
      HttpMethod method, String path, JsonNode body, String contentType) {
    Headers.Builder headers = Headers.builder().add("Accept", "application/json");
    headers.add("Content-Type", contentType != null ? contentType : "application/json");
    Buffer buffer = new Buffer();
    if (body != null) {
      buffer.writeUtf8(ApiJson.write(body));
    }
    return new RecordedRequest("HTTP/1.1", method, path, headers.build(), buffer);
  }

  private static RecordedRequest copy(RecordedRequest request) {
    return new RecordedRequest(
        "HTTP/1.1",
        request.method(),
        request.getPath(),
        request.getHeaders(),
        new Buffer(request.getBody().getBytes()));
  }

  /** The body with the drawn fields (uids, timestamps) left out of every object's metadata. */
  private static String normalized(MockResponse response) throws IOException {
    if (response.getBody() == null) {
      return "";
    }
    byte[] bytes = response.getBody().getBytes();
    JsonNode body;
    try {
      body = ApiJson.JSON.readTree(bytes);
    } catch (IOException e) {
      return new String(bytes, UTF8);
    }
    if (body == null) {
      return new String(bytes, UTF8);
    }
    List<JsonNode> objects = new ArrayList<>();
    objects.add(body);
    body.path("items").forEach(objects::add);
    for (JsonNode object : objects) {
      if (object.get("metadata") instanceof ObjectNode metadata) {
        metadata.remove(List.of("uid", "creationTimestamp", "deletionTimestamp"));
      }
    }
    return body.toString();
  }
}
