package dev.mpj.operator.progress;

import dev.mpj.api.TrainerContract;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads rank 0's {@code GET /progress} in the background, with the job's token, and keeps the last
 * answer per job. Reconciles only ever read the last answer: a slow or dead trainer delays nothing.
 */
public final class ProgressPoller implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressPoller.class);

  private final ExecutorService executor;
  private final HttpClient http;
  private final Function<HttpRequest, CompletableFuture<HttpResponse<String>>> send;
  private final Duration timeout;
  private final Clock clock;
  private final Map<String, ProgressReport> latest = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<?>> inFlight = new ConcurrentHashMap<>();

  /** Jobs being followed, each with the ticket its reads must still hold to be kept. */
  private final Map<String, Object> followed = new ConcurrentHashMap<>();

  public ProgressPoller(Duration timeout, Clock clock) {
    this(timeout, clock, null);
  }

  /**
   * @param send sends a read and answers its response, or null for the poller's own HTTP client
   */
  ProgressPoller(
      Duration timeout,
      Clock clock,
      Function<HttpRequest, CompletableFuture<HttpResponse<String>>> send) {
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "mpj-progress");
              t.setDaemon(true);
              return t;
            });
    this.http = HttpClient.newBuilder().connectTimeout(timeout).executor(executor).build();
    this.send =
        send != null
            ? send
            : request -> http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    this.timeout = timeout;
    this.clock = clock;
  }

  /** The last progress read for this job, if any. */
  public Optional<ProgressReport> latest(String jobKey) {
    return Optional.ofNullable(latest.get(jobKey));
  }

  /** Starts one read unless one is under way; returns at once. */
  public void refresh(String jobKey, URI endpoint, String token) {
    Object ticket = followed.computeIfAbsent(jobKey, k -> new Object());
    // Claimed first, the read started after: a read that completes at once runs its callback on
    // this thread, and a callback run inside a computeIfAbsent of the same key could not release
    // it (ConcurrentHashMap refuses the recursive remove), which left the job unread for good.
    CompletableFuture<Void> claim = new CompletableFuture<>();
    if (inFlight.putIfAbsent(jobKey, claim) != null) {
      return;
    }
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Authorization", "Bearer " + token)
            .GET()
            .build();
    CompletableFuture<HttpResponse<String>> sent;
    try {
      sent = send.apply(request);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.orTimeout(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              try {
                if (error != null) {
                  LOG.debug("progress of {} unavailable: {}", jobKey, error.toString());
                } else if (response.statusCode() != 200) {
                  LOG.debug("progress of {}: HTTP {}", jobKey, response.statusCode());
                } else {
                  ProgressReport report = ProgressReport.parse(response.body(), clock.instant());
                  // A read that ends after forget() must not bring the job back.
                  followed.computeIfPresent(
                      jobKey,
                      (k, current) -> {
                        if (current == ticket) {
                          latest.put(k, report);
                        }
                        return current;
                      });
                }
              } catch (Exception e) {
                LOG.debug("progress of {} unreadable: {}", jobKey, e.toString());
              } finally {
                inFlight.remove(jobKey, claim);
                claim.complete(null);
              }
              return null;
            });
  }

  /** Drops what is known about a job (it finished or was deleted). */
  public void forget(String jobKey) {
    followed.compute(
        jobKey,
        (k, ticket) -> {
          latest.remove(k);
          return null;
        });
  }

  /** How many jobs' progress is kept in memory. */
  public int jobsKept() {
    return latest.size();
  }

  /**
   * Rank 0's progress endpoint: its pod IP and the port of its {@code MPJ_METRICS_PORT} variable,
   * else its container port named metrics, else {@code defaultPort}. Empty while the pod has no IP.
   */
  public static Optional<URI> endpoint(Pod rank0, int defaultPort) {
    if (rank0.getStatus() == null
        || rank0.getStatus().getPodIP() == null
        || rank0.getStatus().getPodIP().isBlank()) {
      return Optional.empty();
    }
    int port = defaultPort;
    for (Container c : rank0.getSpec().getContainers()) {
      if (!JobNames.CONTAINER.equals(c.getName())) {
        continue;
      }
      for (ContainerPort p : c.getPorts()) {
        if (TrainerContract.PORT_METRICS.equals(p.getName()) && p.getContainerPort() != null) {
          port = p.getContainerPort();
        }
      }
      for (EnvVar e : c.getEnv()) {
        if (TrainerContract.ENV_METRICS_PORT.equals(e.getName())
            && e.getValue() != null
            && e.getValue().matches("\\d+")) {
          port = Integer.parseInt(e.getValue());
        }
      }
    }
    String ip = rank0.getStatus().getPodIP();
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    return Optional.of(URI.create("http://" + host + ":" + port + "/progress"));
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
