package dev.mpj.operator.events;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes core/v1 Events. An Event that cannot be written is logged, never fails a reconcile. */
public final class KubernetesEventRecorder implements EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  public static final String COMPONENT = "mpj-operator";
  private static final int WRITE_ATTEMPTS = 5;

  private final KubernetesClient client;
  private final Clock clock;

  public KubernetesEventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  @Override
  public void record(MixedPrecisionJob job, JobEvent event) {
    write(job, event, HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
  }

  /**
   * The Event's name comes from the job's uid, the occurrence and the event, so the same event of
   * the same occurrence is one Event object: a second create gets AlreadyExists and adds nothing.
   */
  @Override
  public void record(MixedPrecisionJob job, JobEvent event, String occurrence) {
    write(job, event, uniqueName(job.getMetadata().getUid(), occurrence, event));
  }

  /** 16 hex digits of SHA-256 over the uid, the occurrence and the event. */
  static String uniqueName(String uid, String occurrence, JobEvent event) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  String.join("\n", uid, occurrence, event.type(), event.reason(), event.message())
                      .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private void write(MixedPrecisionJob job, JobEvent event, String unique) {
    var meta = job.getMetadata();
    String now = clock.instant().toString();
    var e =
        new EventBuilder()
            .withNewMetadata()
            .withName(JobNames.event(job, unique))
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
    // A few tries: an Event of a decision is worth a retry of a failed write, and a write whose
    // response was lost comes back as AlreadyExists.
    for (int attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      try {
        client.v1().events().inNamespace(meta.getNamespace()).resource(e).create();
        break;
      } catch (KubernetesClientException ex) {
        if (ex.getCode() == 409 && exists(meta.getNamespace(), e.getMetadata().getName())) {
          // Recorded already: by a reconcile that decided the same, or by this write whose
          // response was lost.
          break;
        }
        if (attempt == WRITE_ATTEMPTS || (ex.getCode() < 500 && ex.getCode() != 409)) {
          LOG.warn(
              "cannot record event {} for {}/{}: {}",
              event.reason(),
              meta.getNamespace(),
              meta.getName(),
              ex.getMessage());
          break;
        }
      }
    }
    LOG.info(
        "{}/{}: {} {}: {}",
        meta.getNamespace(),
        meta.getName(),
        event.type(),
        event.reason(),
        event.message());
  }

  private boolean exists(String namespace, String name) {
    try {
      return client.v1().events().inNamespace(namespace).withName(name).get() != null;
    } catch (KubernetesClientException e) {
      return false;
    }
  }
}
