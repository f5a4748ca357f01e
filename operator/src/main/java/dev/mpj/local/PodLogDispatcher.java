package dev.mpj.local;

import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code GET /api/v1/namespaces/NS/pods/NAME/log}: what {@code kubectl logs} reads, served from the
 * log file the local kubelet writes for the pod's newest attempt ({@code
 * pods/NAME-attempt-N/log.txt} under the work dir); {@code tailLines} is honoured. A pod without a
 * log file answers 404 as the API server does for a pod whose container has not started. {@code
 * follow=true} ({@code kubectl logs -f}) is streamed by {@link HttpApiServer}.
 */
final class PodLogDispatcher extends Dispatcher {
  static final Pattern LOG_PATH = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/]+)/log");

  private final Path podsDir;
  private final Dispatcher next;

  PodLogDispatcher(Path podsDir, Dispatcher next) {
    this.podsDir = podsDir;
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    Matcher m = LOG_PATH.matcher(ApiJson.path(request));
    if (!"GET".equals(request.getMethod()) || !m.matches()) {
      return next.dispatch(request);
    }
    String pod = m.group(2);
    Optional<Path> log = newestLog(podsDir, pod);
    if (log.isEmpty()) {
      return ApiJson.failure(
          404, "NotFound", "pods \"" + pod + "\" not found or its container has not started");
    }
    String text;
    try {
      text = Files.readString(log.get(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ApiJson.failure(500, "InternalError", "reading the log of " + pod + ": " + e);
    }
    String tail = ApiJson.query(request, "tailLines");
    if (tail != null && tail.matches("\\d+")) {
      text = tail(text, Integer.parseInt(tail));
    }
    return new MockResponse()
        .setResponseCode(200)
        .setHeader("Content-Type", "text/plain")
        .setBody(text);
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  /** The log file of the pod's highest attempt, under the kubelet's pods directory. */
  static Optional<Path> newestLog(Path podsDir, String pod) {
    if (!Files.isDirectory(podsDir)) {
      return Optional.empty();
    }
    String prefix = pod + "-attempt-";
    try (Stream<Path> dirs = Files.list(podsDir)) {
      return dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
          .filter(d -> d.getFileName().toString().substring(prefix.length()).matches("\\d+"))
          .max(
              Comparator.comparingInt(
                  d -> Integer.parseInt(d.getFileName().toString().substring(prefix.length()))))
          .map(d -> d.resolve("log.txt"))
          .filter(Files::isRegularFile);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
    return last.isEmpty() ? "" : String.join("\n", last) + "\n";
  }
}
