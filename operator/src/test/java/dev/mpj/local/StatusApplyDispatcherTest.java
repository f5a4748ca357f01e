package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A server-side apply of a status, whether the client sends it as JSON or as YAML. */
class StatusApplyDispatcherTest {
  private static final String JOB = "/apis/mpj.dev/v1alpha1/namespaces/a/mixedprecisionjobs/digits";
  private static final String STORED =
      "{\"apiVersion\":\"mpj.dev/v1alpha1\",\"kind\":\"MixedPrecisionJob\",\"metadata\":{\"name\":"
          + "\"digits\",\"resourceVersion\":\"7\"},\"spec\":{\"x\":1},\"status\":{\"phase\":"
          + "\"Pending\"}}";

  /** Answers a GET with the stored job and a PUT with what it was sent, which it keeps. */
  private static final class Store extends Dispatcher {
    final List<String> puts = new ArrayList<>();

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      if ("GET".equals(request.getMethod())) {
        return new MockResponse().setResponseCode(200).setBody(STORED);
      }
      String body = new String(request.getBody().getBytes(), StandardCharsets.UTF_8);
      puts.add(request.getMethod() + " " + request.getPath() + " " + body);
      return new MockResponse().setResponseCode(200).setBody(body);
    }
  }

  private static RecordedRequest apply(String body) {
    Buffer buffer = new Buffer();
    buffer.write(body.getBytes(StandardCharsets.UTF_8));
    return new RecordedRequest(
        "HTTP/1.1",
        HttpMethod.PATCH,
        JOB + "/status?fieldManager=mpj&force=true",
        Headers.builder().add("Content-Type", "application/apply-patch+yaml").build(),
        buffer);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"metadata\":{\"name\":\"digits\"},\"status\":{\"phase\":\"Running\",\"attempt\":2}}",
        "  \n{\"metadata\": {\"name\": \"digits\"}, \"status\": {\"phase\": \"Running\","
            + " \"attempt\": 2}}",
        "metadata:\n  name: digits\nstatus:\n  phase: Running\n  attempt: 2\n"
      })
  void theAppliedStatusReplacesTheStoredOneAndNothingElse(String body) throws Exception {
    Store store = new Store();
    MockResponse answer = new StatusApplyDispatcher(store).dispatch(apply(body));
    assertThat(answer.code()).isEqualTo(200);
    assertThat(store.puts).hasSize(1);
    String put = store.puts.get(0);
    assertThat(put).startsWith("PUT " + JOB + "/status ");
    JsonNode written = ApiJson.JSON.readTree(put.substring(put.indexOf('{')));
    assertThat(written.at("/status/phase").asText()).isEqualTo("Running");
    assertThat(written.at("/status/attempt").asInt()).isEqualTo(2);
    assertThat(written.at("/spec/x").asInt()).as("the spec is kept").isEqualTo(1);
    assertThat(written.at("/metadata/resourceVersion").asText()).isEqualTo("7");
  }

  @Test
  void aBodyThatIsNeitherJsonNorYamlIsABadRequestAndNothingIsWritten() {
    Store store = new Store();
    MockResponse answer = new StatusApplyDispatcher(store).dispatch(apply("{\"status\": [1,"));
    assertThat(answer.code()).isEqualTo(400);
    assertThat(store.puts).isEmpty();
  }

  @Test
  void onlyABodyThatOpensWithABraceIsReadAsJson() {
    assertThat(StatusApplyDispatcher.startsAsJson(" \t\r\n{}".getBytes(StandardCharsets.UTF_8)))
        .isTrue();
    assertThat(StatusApplyDispatcher.startsAsJson("status: {}".getBytes(StandardCharsets.UTF_8)))
        .isFalse();
    assertThat(StatusApplyDispatcher.startsAsJson(new byte[0])).isFalse();
  }
}
