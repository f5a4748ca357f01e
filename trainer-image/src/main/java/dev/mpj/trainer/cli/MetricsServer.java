package dev.mpj.trainer.cli;

import com.sun.net.httpserver.HttpServer;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;

/** Serves the trainer's progress at http://host:port/metrics in Prometheus text format. */
final class MetricsServer implements TrainingListener, AutoCloseable {
  private final HttpServer server;
  private final AtomicLong step = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private volatile double loss = Double.NaN;
  private volatile double lossScale = Double.NaN;
  private volatile double samplesPerSecond;
  private final DoubleAdder samples = new DoubleAdder();

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  static MetricsServer start(int port, String job) throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HttpServer http = HttpServer.create(new InetSocketAddress(port), 0);
    MetricsServer m = new MetricsServer(http);
    Tags tags = Tags.of("job", job);
    Gauge.builder("mpj_trainer_step", m.step, AtomicLong::get).tags(tags).description("Optimizer steps attempted").register(registry);
    Gauge.builder("mpj_trainer_skipped_steps", m.skipped, AtomicLong::get).tags(tags).description("Steps skipped on overflow").register(registry);
    Gauge.builder("mpj_trainer_loss", m, s -> s.loss).tags(tags).description("Training loss of the last step").register(registry);
    Gauge.builder("mpj_trainer_loss_scale", m, s -> s.lossScale).tags(tags).description("Loss scale of the last step").register(registry);
    Gauge.builder("mpj_trainer_samples_per_second", m, s -> s.samplesPerSecond).tags(tags).register(registry);
    Gauge.builder("mpj_trainer_samples", m.samples, DoubleAdder::sum).tags(tags).description("Samples trained on").register(registry);
    http.createContext("/metrics", exchange -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    http.start();
    return m;
  }

  @Override
  public void onStep(StepResult s) {
    step.set(s.step());
    if (s.skipped()) {
      skipped.incrementAndGet();
    }
    loss = s.loss();
    lossScale = s.lossScale();
    samplesPerSecond = s.samplesPerSecond();
    samples.add(s.microBatch() * (double) s.accumulation());
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
