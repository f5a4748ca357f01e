package dev.mpj.operator.events;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes core/v1 Events. An Event that cannot be written is logged, never fails a reconcile. */
public final class KubernetesEventRecorder implements EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  public static final String COMPONENT = "mpj-operator";

  private final KubernetesClient client;
  private final Clock clock;

  public KubernetesEventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  @Override
  public void record(MixedPrecisionJob job, JobEvent event) {
    var meta = job.getMetadata();
    String now = clock.instant().toString();
    var e =
        new EventBuilder()
            .withNewMetadata()
            .withName(
                JobNames.event(
                    job, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong())))
            .withNamespace(meta.getNamespace())
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(job.getApiVersion())
                    .withKind(job.getKind())
                    .withName(meta.getName())
                    .withNamespace(meta.getNamespace())
                    .withUid(meta.getUid())
                    .withResourceVersion(meta.getResourceVersion())
                    .build())
            .withType(event.type())
            .withReason(event.reason())
            .withMessage(event.message())
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    try {
      client.v1().events().inNamespace(meta.getNamespace()).resource(e).create();
    } catch (KubernetesClientException ex) {
      LOG.warn(
          "cannot record event {} for {}/{}: {}",
          event.reason(),
          meta.getNamespace(),
          meta.getName(),
          ex.getMessage());
    }
    LOG.info(
        "{}/{}: {} {}: {}",
        meta.getNamespace(),
        meta.getName(),
        event.type(),
        event.reason(),
        event.message());
  }
}
