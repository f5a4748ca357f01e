package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class PatchesTest {
  private static JsonNode json(String text) throws Exception {
    return ApiJson.JSON.readTree(text);
  }

  @Test
  void aMergePatchMergesObjectsRemovesNullsAndReplacesTheRest() throws Exception {
    JsonNode stored = json("{\"spec\":{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"list\":[1,2]}}");
    JsonNode patched =
        Patches.apply(
            "application/merge-patch+json",
            stored,
            json("{\"spec\":{\"a\":null,\"b\":{\"c\":5},\"list\":[3],\"e\":true}}"));
    assertThat(patched)
        .isEqualTo(json("{\"spec\":{\"b\":{\"c\":5,\"d\":3},\"list\":[3],\"e\":true}}"));
    assertThat(stored).as("the stored object is not changed").isEqualTo(json(stored.toString()));
  }

  @Test
  void aJsonPatchAppliesItsOperationsOrIsRefusedWithItsReason() throws Exception {
    JsonNode stored = json("{\"spec\":{\"replicas\":{\"min\":2,\"max\":2}}}");
    JsonNode patched =
        Patches.apply(
            "application/json-patch+json",
            stored,
            json("[{\"op\":\"replace\",\"path\":\"/spec/replicas/min\",\"value\":1}]"));
    assertThat(patched.at("/spec/replicas/min").asInt()).isEqualTo(1);
    assertThat(stored.at("/spec/replicas/min").asInt()).isEqualTo(2);
    assertThatThrownBy(
            () ->
                Patches.apply(
                    "application/json-patch+json",
                    stored,
                    json("[{\"op\":\"test\",\"path\":\"/spec/replicas/min\",\"value\":5}]")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the server rejected our request");
  }

  @Test
  void serverSideApplyIsNotAPatchAppliedHere() throws Exception {
    assertThat(Patches.apply("application/apply-patch+yaml", json("{}"), json("{}"))).isNull();
  }
}
