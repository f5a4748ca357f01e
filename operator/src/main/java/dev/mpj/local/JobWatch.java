package dev.mpj.local;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ProgressStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Follows one job the way a person wants to watch training: a progress line when something changed
 * (phase, step, loss, loss scale, throughput, restarts) and the job's Events as they happen.
 */
final class JobWatch implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration MIN_LINE_INTERVAL = Duration.ofSeconds(1);

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final PrintStream out;
  private final long startNanos = System.nanoTime();
  private Watch events;
  private String lastProgress;

  JobWatch(KubernetesClient client, String namespace, String name, PrintStream out) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.out = out;
  }

  /** Prints events and progress until the job Succeeded or Failed; returns the finished job. */
  MixedPrecisionJob untilFinished(Duration timeout) throws InterruptedException {
    events =
        client
            .v1()
            .events()
            .inNamespace(namespace)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Event event) {
                    if (action == Action.ADDED
                        && event.getInvolvedObject() != null
                        && name.equals(event.getInvolvedObject().getName())) {
                      line("event    " + event.getReason() + ": " + event.getMessage());
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    String lastKey = null;
    long lastLine = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      MixedPrecisionJob job =
          client.resources(MixedPrecisionJob.class).inNamespace(namespace).withName(name).get();
      MixedPrecisionJobStatus status = job == null ? null : job.getStatus();
      if (status != null && status.phase != null) {
        String key = status.phase + "/" + status.attempt + "/" + status.restarts;
        boolean changed = !Objects.equals(key, lastKey);
        boolean due = System.nanoTime() - lastLine > MIN_LINE_INTERVAL.toNanos();
        String progress = progress(status);
        if (changed || (due && progress != null && !progress.equals(lastProgress))) {
          line(
              String.format(
                  Locale.ROOT,
                  "%-10s attempt %d  restarts %d%s",
                  status.phase,
                  status.attempt,
                  status.restarts,
                  progress == null ? "" : "  " + progress));
          lastKey = key;
          lastProgress = progress;
          lastLine = System.nanoTime();
        }
        if (status.phase.isFinished()) {
          return job;
        }
      }
      Thread.sleep(POLL.toMillis());
    }
    return null;
  }

  private static String progress(MixedPrecisionJobStatus status) {
    ProgressStatus p = status.progress;
    if (p == null || p.step == null) {
      return null;
    }
    StringBuilder s = new StringBuilder();
    s.append("step ").append(p.step);
    if (p.totalSteps != null) {
      s.append('/').append(p.totalSteps);
    }
    if (p.loss != null) {
      s.append(String.format(Locale.ROOT, "  loss %.4f", p.loss));
    }
    if (p.lossScale != null) {
      s.append(String.format(Locale.ROOT, "  scale %.0f", p.lossScale));
    }
    if (p.skippedSteps != null && p.skippedSteps > 0) {
      s.append("  skipped ").append(p.skippedSteps);
    }
    if (p.samplesPerSecond != null) {
      s.append(String.format(Locale.ROOT, "  %.0f samples/s", p.samplesPerSecond));
    }
    return s.toString();
  }

  void line(String text) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    synchronized (out) {
      out.printf(Locale.ROOT, "[%6.1fs] %s%n", seconds, text);
      out.flush();
    }
  }

  @Override
  public void close() {
    if (events != null) {
      events.close();
    }
  }
}
