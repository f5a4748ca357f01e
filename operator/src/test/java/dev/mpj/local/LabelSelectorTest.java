package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class LabelSelectorTest {
  private static JsonNode labelled(String labels) throws Exception {
    return ApiJson.JSON.readTree("{\"metadata\":{\"labels\":" + labels + "}}");
  }

  @Test
  void equalityAndInequalityCompareTheLabelsValue() throws Exception {
    JsonNode pod = labelled("{\"app\":\"mpj\",\"rank\":\"0\"}");
    assertThat(LabelSelector.parse("app=mpj").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("app==mpj,rank=0").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("app=mpj,rank=1").matches(pod)).isFalse();
    assertThat(LabelSelector.parse("rank!=1").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("rank!=0").matches(pod)).isFalse();
    assertThat(LabelSelector.parse("missing!=x").matches(pod)).isTrue();
  }

  @Test
  void setsAndExistenceAsKubectlWritesThem() throws Exception {
    JsonNode pod = labelled("{\"app\":\"mpj\",\"rank\":\"0\"}");
    assertThat(LabelSelector.parse("rank in (0, 1),app").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("rank in (1,2)").matches(pod)).isFalse();
    assertThat(LabelSelector.parse("rank notin (1,2)").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("!rank").matches(pod)).isFalse();
    assertThat(LabelSelector.parse("!other,app").matches(pod)).isTrue();
    assertThat(LabelSelector.parse("other").matches(pod)).isFalse();
  }

  @Test
  void noSelectorSelectsEverythingEvenWithoutLabels() throws Exception {
    JsonNode bare = ApiJson.JSON.readTree("{\"metadata\":{}}");
    assertThat(LabelSelector.parse(null).matches(bare)).isTrue();
    assertThat(LabelSelector.parse("").matches(bare)).isTrue();
    assertThat(LabelSelector.parse("app=mpj").matches(bare)).isFalse();
  }
}
