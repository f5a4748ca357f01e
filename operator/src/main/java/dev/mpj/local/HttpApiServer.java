package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

/**
 * The local API server's address for kubectl: plain HTTP on loopback, every request answered by the
 * same dispatchers as the mock server's (one store, one set of rules), and watches streamed as a
 * real API server streams them: the events since the version asked for, then each change as it
 * happens (deletions too), until the watch's timeout or the client leaves; {@code kubectl logs -f}
 * follows the replica's log file the same way. The mock server itself watches only over WebSockets
 * and answers with whole bodies; fabric8 clients keep using it.
 */
final class HttpApiServer implements AutoCloseable {
  /** How often an idle watch writes a blank line, to notice a client that left. */
  static final Duration HEARTBEAT = Duration.ofSeconds(5);

  /** How often {@code kubectl logs -f} looks for more of the log. */
  static final Duration FOLLOW_POLL = Duration.ofMillis(300);

  private static final WatchableStore.Change END = new WatchableStore.Change("END", null);

  private final HttpServer server;
  private final ExecutorService threads;
  private final Dispatcher dispatcher;
  private final WatchableStore store;
  private final CustomResourceDefinition crd;
  private final Path podsDir;
  private final List<BlockingQueue<WatchableStore.Change>> open = new ArrayList<>();
  private volatile boolean closing;

  private HttpApiServer(
      HttpServer server,
      ExecutorService threads,
      Dispatcher dispatcher,
      WatchableStore store,
      CustomResourceDefinition crd,
      Path podsDir) {
    this.server = server;
    this.threads = threads;
    this.dispatcher = dispatcher;
    this.store = store;
    this.crd = crd;
    this.podsDir = podsDir;
  }

  /** Listens on a free loopback port; {@code kubectl logs -f} follows the files under podsDir. */
  static HttpApiServer start(
      Dispatcher dispatcher, WatchableStore store, CustomResourceDefinition crd, Path podsDir) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ExecutorService threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "mpj-local-api");
              t.setDaemon(true);
              return t;
            });
    HttpApiServer api = new HttpApiServer(server, threads, dispatcher, store, crd, podsDir);
    server.setExecutor(threads);
    server.createContext("/", api::handle);
    server.start();
    return api;
  }

  String url() {
    return "http://localhost:" + server.getAddress().getPort() + "/";
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      RecordedRequest request = request(exchange);
      if (ApiJson.webSocket(request)) {
        // No WebSockets here: fabric8 clients then watch over plain HTTP, as with kubectl proxy.
        write(
            exchange,
            ApiJson.failure(503, "ServiceUnavailable", "this address serves no WebSockets"),
            request);
        return;
      }
      WatchStream watch = WatchStream.of(request, crd);
      if (watch != null) {
        stream(exchange, request, watch);
        return;
      }
      Matcher log = PodLogDispatcher.LOG_PATH.matcher(ApiJson.path(request));
      if ("GET".equals(request.getMethod())
          && log.matches()
          && "true".equals(ApiJson.query(request, "follow"))) {
        follow(exchange, request, log.group(1), log.group(2));
        return;
      }
      MockResponse response;
      try {
        response = dispatcher.dispatch(request);
      } catch (RuntimeException e) {
        response = ApiJson.failure(500, "InternalError", "the local API server failed: " + e);
      }
      write(exchange, response, request);
    }
  }

  private static RecordedRequest request(HttpExchange exchange) throws IOException {
    Headers.Builder headers = Headers.builder();
    exchange
        .getRequestHeaders()
        .forEach(
            (k, vs) -> {
              // HTTP/2 is not spoken here: the request stays HTTP/1.1.
              boolean h2c =
                  "HTTP2-Settings".equalsIgnoreCase(k)
                      || ("Upgrade".equalsIgnoreCase(k) && vs.contains("h2c"));
              if (!h2c) {
                vs.forEach(v -> headers.add(k, v));
              }
            });
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    String query = exchange.getRequestURI().getRawQuery();
    String path = exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
    HttpMethod method;
    try {
      method = HttpMethod.valueOf(exchange.getRequestMethod());
    } catch (IllegalArgumentException e) {
      method = HttpMethod.ANY;
    }
    return new RecordedRequest("HTTP/1.1", method, path, headers.build(), new Buffer(body));
  }

  private static void write(HttpExchange exchange, MockResponse response, RecordedRequest request)
      throws IOException {
    Duration delay = response.getBodyDelay();
    if (delay != null && !delay.isZero()) {
      sleep(delay);
    }
    for (Map.Entry<String, List<String>> h : response.getHeaders().toMultimap().entrySet()) {
      if (!"content-length".equalsIgnoreCase(h.getKey())) {
        exchange.getResponseHeaders().put(h.getKey(), h.getValue());
      }
    }
    byte[] body = response.getBody() == null ? new byte[0] : response.getBody().getBytes();
    boolean head = "HEAD".equalsIgnoreCase(request.getMethod());
    exchange.sendResponseHeaders(response.code(), body.length == 0 || head ? -1 : body.length);
    if (body.length > 0 && !head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /**
   * A watch: subscribes first, then lists, so that no change falls between the two; writes the
   * listed objects newer than the version asked for (all of them, as ADDED, for a watch list, then
   * its bookmark), then each change the list did not already show, as it comes.
   */
  private void stream(HttpExchange exchange, RecordedRequest request, WatchStream watch)
      throws IOException {
    BlockingQueue<WatchableStore.Change> changes = new LinkedBlockingQueue<>();
    synchronized (open) {
      if (closing) {
        write(exchange, ApiJson.failure(503, "ServiceUnavailable", "shutting down"), request);
        return;
      }
      open.add(changes);
    }
    try (AutoCloseable subscription =
        store.subscribe(
            c -> {
              if (watch.matches(c.object())) {
                changes.add(c);
              }
            })) {
      MockResponse list = dispatcher.dispatch(WatchStream.listRequest(request));
      if (list.code() != 200 || list.getBody() == null) {
        write(exchange, list, request);
        return;
      }
      JsonNode body = ApiJson.JSON.readTree(list.getBody().getBytes());
      List<JsonNode> items = new ArrayList<>();
      if (body.has("items")) {
        body.get("items").forEach(items::add);
      } else {
        items.add(body);
      }
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Cache-Control", "no-cache, private");
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      long since = watch.since();
      long listed = 0;
      Instant now = Instant.now();
      for (JsonNode item : items) {
        long rv = WatchStream.version(item.at("/metadata/resourceVersion").asText(""));
        listed = Math.max(listed, rv);
        if (rv > since) {
          send(out, watch.event(since == 0 ? "ADDED" : "MODIFIED", item, now));
        }
      }
      if (watch.initialEvents()) {
        send(out, watch.initialEventsEnd(Math.max(listed, watch.resourceVersion())));
      }
      out.flush();
      Instant end = Instant.now().plus(watch.timeout());
      while (!closing) {
        Duration left = Duration.between(Instant.now(), end);
        if (left.isNegative() || left.isZero()) {
          break;
        }
        long wait = Math.min(left.toMillis(), HEARTBEAT.toMillis());
        WatchableStore.Change change = changes.poll(wait, TimeUnit.MILLISECONDS);
        if (change == END) {
          break;
        }
        if (change == null) {
          send(out, "\n");
        } else if ("DELETED".equals(change.type()) || change.resourceVersion() > listed) {
          send(out, watch.event(change.type(), change.object(), Instant.now()));
        }
      }
      out.close();
    } catch (IOException e) {
      // The client left.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      synchronized (open) {
        open.remove(changes);
      }
    }
  }

  /**
   * {@code kubectl logs -f}: the log so far (its last {@code tailLines}), then what the replica
   * writes, until its container has ended (the pod Succeeded or Failed, or is gone) or the client
   * leaves.
   */
  private void follow(HttpExchange exchange, RecordedRequest request, String namespace, String pod)
      throws IOException {
    Optional<Path> file = PodLogDispatcher.newestLog(podsDir, pod);
    if (file.isEmpty()) {
      write(exchange, dispatcher.dispatch(request), request);
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, 0);
    try (OutputStream out = exchange.getResponseBody()) {
      byte[] start = Files.readAllBytes(file.get());
      long offset = start.length;
      String text = new String(start, StandardCharsets.UTF_8);
      String tail = ApiJson.query(request, "tailLines");
      if (tail != null && tail.matches("\\d+")) {
        text = PodLogDispatcher.tail(text, Integer.parseInt(tail));
      }
      send(out, text);
      String podPath = "/api/v1/namespaces/" + namespace + "/pods/" + pod;
      boolean ended = false;
      while (!closing) {
        long size = Files.size(file.get());
        if (size > offset) {
          try (InputStream in = Files.newInputStream(file.get())) {
            in.skipNBytes(offset);
            byte[] more = in.readNBytes((int) Math.min(size - offset, 1 << 20));
            out.write(more);
            out.flush();
            offset += more.length;
          }
          continue;
        }
        if (ended) {
          break;
        }
        // One more read after the end, for what the replica wrote last.
        ended = containerEnded(podPath);
        if (!ended) {
          sleep(FOLLOW_POLL);
        }
      }
    } catch (IOException e) {
      // The client left.
    }
  }

  private boolean containerEnded(String podPath) throws IOException {
    MockResponse response =
        dispatcher.dispatch(
            new RecordedRequest(
                "HTTP/1.1",
                HttpMethod.GET,
                podPath,
                Headers.builder().add("Accept", "application/json").build(),
                new Buffer()));
    if (response.code() != 200 || response.getBody() == null) {
      return true;
    }
    JsonNode pod = ApiJson.JSON.readTree(response.getBody().getBytes());
    String phase = pod.at("/status/phase").asText("");
    return "Succeeded".equals(phase)
        || "Failed".equals(phase)
        || pod.at("/status/containerStatuses/0/state/terminated").isObject();
  }

  private static void send(OutputStream out, String line) throws IOException {
    out.write(line.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Ends every watch, then stops listening. */
  @Override
  public void close() {
    synchronized (open) {
      closing = true;
      open.forEach(q -> q.add(END));
    }
    server.stop(0);
    threads.shutdownNow();
  }
}
