package dev.mpj.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class ApiRequestKindTest {
  private static String kind(String method, String path) {
    return ApiRequestKind.of(method, URI.create("http://localhost:1234" + path));
  }

  @Test
  void namesTheVerbAndTheResource() {
    assertThat(kind("GET", "/apis/mpj.dev/v1alpha1/namespaces/a/mixedprecisionjobs/j"))
        .isEqualTo("get mixedprecisionjobs");
    assertThat(kind("PUT", "/apis/mpj.dev/v1alpha1/namespaces/a/mixedprecisionjobs/j/status"))
        .isEqualTo("update mixedprecisionjobs/status");
    assertThat(kind("GET", "/api/v1/namespaces/a/pods?labelSelector=mpj.dev%2Fjob-name%3Dj"))
        .isEqualTo("list pods");
    assertThat(kind("POST", "/api/v1/namespaces/a/pods")).isEqualTo("create pods");
    assertThat(kind("DELETE", "/api/v1/namespaces/a/pods/j-worker-0")).isEqualTo("delete pods");
    assertThat(kind("GET", "/api/v1/nodes")).isEqualTo("list nodes");
  }

  @Test
  void tellsAListOfEveryPodFromAWatchAndFromANamespacedList() {
    assertThat(kind("GET", "/api/v1/pods")).isEqualTo("list pods (all namespaces)");
    assertThat(ApiRequestKind.listsAllPods(kind("GET", "/api/v1/pods"))).isTrue();
    assertThat(kind("GET", "/api/v1/pods?labelSelector=x&watch=true&resourceVersion=5"))
        .isEqualTo("watch pods (all namespaces)");
    assertThat(ApiRequestKind.listsAllPods(kind("GET", "/api/v1/pods?watch=true"))).isFalse();
    assertThat(ApiRequestKind.listsAllPods(kind("GET", "/api/v1/namespaces/a/pods"))).isFalse();
  }
}
