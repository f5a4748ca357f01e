package dev.mpj.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * In front of the mock API server's dispatcher, like {@code ValidatingDispatcher}: fails a share of
 * the requests that carry {@link #HEADER} (the operator's client sets it; the test's own client
 * does not), drawn from a seeded random. The faults a real API server gives a controller: 500, 409
 * Conflict on writes, 410 Gone on watches (the resource version expired), and a write that happened
 * but whose response was lost (what a dropped connection after the request looks like to the
 * client). Records every pod creation that reached the store.
 */
final class FaultInjectingDispatcher extends Dispatcher {
  static final String HEADER = "X-Mpj-Faults";

  /** The faults, one drawn per failed request. */
  enum Fault {
    SERVER_ERROR,
    CONFLICT,
    WATCH_EXPIRED,
    RESPONSE_LOST
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Dispatcher next;
  private final Random random;
  private final double share;
  private final Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
  private final List<String> podsCreated = new ArrayList<>();
  private final Set<String> watchesExpired = new HashSet<>();
  private volatile boolean enabled;
  private volatile boolean expireFirstWatches;

  FaultInjectingDispatcher(Dispatcher next, long seed, double share) {
    this.next = next;
    this.random = new Random(seed);
    this.share = share;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if (expireFirstWatches && firstWatch(request)) {
      return status(410, "Expired", "too old resource version");
    }
    Fault fault = draw(request);
    if (fault == null || fault == Fault.RESPONSE_LOST) {
      // getBytes() leaves the body for the store (getUtf8Body() would consume it).
      String body =
          isPodCreation(request)
              ? new String(request.getBody().getBytes(), StandardCharsets.UTF_8)
              : null;
      MockResponse response = next.dispatch(request);
      if (body != null) {
        recordPodCreation(body, response);
      }
      return fault == null ? response : status(500, "InternalError", "the response was lost");
    }
    return switch (fault) {
      case SERVER_ERROR -> status(500, "InternalError", "injected fault");
      case CONFLICT ->
          status(
              409,
              "Conflict",
              "Operation cannot be fulfilled: the object has been modified; please apply your"
                  + " changes to the latest version and try again");
      case WATCH_EXPIRED -> status(410, "Expired", "too old resource version");
      case RESPONSE_LOST -> throw new IllegalStateException("handled above");
    };
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  /** Starts injecting; a new dispatcher lets every request through. */
  void enable() {
    enabled = true;
  }

  /**
   * Answers the first watch of each resource path from the operator with 410 Gone, whether or not
   * faults are enabled: the start of an informer whose first watch expired.
   */
  void expireFirstWatches() {
    expireFirstWatches = true;
  }

  /** The watches answered 410 by {@link #expireFirstWatches()}, by path. */
  synchronized Set<String> watchesExpired() {
    return Set.copyOf(watchesExpired);
  }

  private synchronized boolean firstWatch(RecordedRequest request) {
    String path = request.getPath();
    if (request.getHeader(HEADER) == null || !path.contains("watch=true")) {
      return false;
    }
    String resource = path.substring(0, path.indexOf('?'));
    return watchesExpired.add(resource);
  }

  /** Stops injecting (to let a test read the end state through any client). */
  void disable() {
    enabled = false;
  }

  synchronized Map<Fault, Integer> injected() {
    return new EnumMap<>(injected);
  }

  /** Every pod the store created, as {@code name attempt=N}, in order. */
  synchronized List<String> podsCreated() {
    return List.copyOf(podsCreated);
  }

  private synchronized Fault draw(RecordedRequest request) {
    if (!enabled || request.getHeader(HEADER) == null || random.nextDouble() >= share) {
      return null;
    }
    String method = request.getMethod();
    boolean watch = request.getPath().contains("watch=true");
    boolean write = !"GET".equals(method);
    List<Fault> possible = new ArrayList<>(List.of(Fault.SERVER_ERROR));
    if (watch) {
      possible.add(Fault.WATCH_EXPIRED);
    }
    if (write && !"DELETE".equals(method)) {
      possible.add(Fault.CONFLICT);
    }
    if (write) {
      possible.add(Fault.RESPONSE_LOST);
    }
    // Each kind this request could meet comes once before any kind comes again, so that every
    // run meets every kind (the test asserts it), however the operator's requests interleave.
    List<Fault> notYet = possible.stream().filter(f -> !injected.containsKey(f)).toList();
    List<Fault> from = notYet.isEmpty() ? possible : notYet;
    Fault fault = from.get(random.nextInt(from.size()));
    injected.merge(fault, 1, Integer::sum);
    return fault;
  }

  private static boolean isPodCreation(RecordedRequest request) {
    return "POST".equals(request.getMethod())
        && request.getPath().matches("/api/v1/namespaces/[^/]+/pods(\\?.*)?");
  }

  private synchronized void recordPodCreation(String body, MockResponse response) {
    if (response.code() >= 300) {
      return;
    }
    try {
      JsonNode pod = JSON.readTree(body);
      podsCreated.add(
          pod.path("metadata").path("name").asText()
              + " attempt="
              + pod.path("metadata").path("labels").path("mpj.dev/attempt").asText());
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MockResponse status(int code, String reason, String message) {
    return new MockResponse()
        .setResponseCode(code)
        .setBody(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                + "\"message\":\""
                + message
                + "\",\"reason\":\""
                + reason
                + "\",\"code\":"
                + code
                + "}");
  }
}
