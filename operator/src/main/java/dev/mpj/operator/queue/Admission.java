package dev.mpj.operator.queue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;

/**
 * What Kueue decided about a job's Workload, read from its status (Kueue's conditions and {@code
 * status.admission}). A job with a queue label runs only while {@link #admitted()}.
 *
 * @param admitted Admitted is True and the Workload is not being evicted
 * @param quotaReserved QuotaReserved is True: the quota is still held (to be released after an
 *     eviction once the pods are gone)
 * @param evicted Evicted is True: stop the gang, then release the quota
 * @param reason Kueue's reason for the eviction (Preempted, PodsReadyTimeout, ...) or why the
 *     Workload waits, else null
 * @param message Kueue's message for it, else null
 * @param count the admitted pod count of the one pod set (partial admission), else null
 * @param flavors the ResourceFlavors assigned to the pod set's resources, without repeats
 * @param finished Finished is True
 */
public record Admission(
    boolean exists,
    boolean admitted,
    boolean quotaReserved,
    boolean evicted,
    String reason,
    String message,
    Integer count,
    List<String> flavors,
    boolean finished) {

  /** No Workload yet: the job waits for it to be created and admitted. */
  public static final Admission NO_WORKLOAD =
      new Admission(false, false, false, false, null, null, null, List.of(), false);

  public static Admission of(GenericKubernetesResource workload) {
    if (workload == null) {
      return NO_WORKLOAD;
    }
    JsonNode status = Serialization.jsonMapper().valueToTree(workload).path("status");
    JsonNode conditions = status.path("conditions");
    boolean evicted = isTrue(conditions, Workloads.EVICTED);
    boolean admitted = isTrue(conditions, Workloads.ADMITTED) && !evicted;
    JsonNode why =
        evicted
            ? condition(conditions, Workloads.EVICTED)
            : condition(conditions, Workloads.QUOTA_RESERVED);
    JsonNode assignment = status.path("admission").path("podSetAssignments").path(0);
    Integer count = assignment.path("count").isInt() ? assignment.path("count").asInt() : null;
    List<String> flavors = new ArrayList<>();
    assignment
        .path("flavors")
        .elements()
        .forEachRemaining(
            f -> {
              if (!flavors.contains(f.asText())) {
                flavors.add(f.asText());
              }
            });
    return new Admission(
        true,
        admitted,
        isTrue(conditions, Workloads.QUOTA_RESERVED),
        evicted,
        text(why.path("reason")),
        text(why.path("message")),
        count,
        List.copyOf(flavors),
        isTrue(conditions, Workloads.FINISHED));
  }

  /** Why the job does not run, for its Suspended condition. */
  public String suspendReason() {
    return evicted ? "Evicted" : "WaitingForAdmission";
  }

  /** The same, in a user's words. */
  public String suspendMessage() {
    if (evicted) {
      return "evicted by Kueue ("
          + (reason == null ? "no reason given" : reason)
          + (message == null ? "" : ": " + message)
          + "); the pods were stopped (the trainers checkpoint on SIGTERM) and the job resumes from"
          + " the newest checkpoint when Kueue admits it again";
    }
    if (!exists) {
      return "waiting for Kueue: creating the Workload";
    }
    return "waiting for Kueue to admit the Workload"
        + (message == null ? "" : " (" + message + ")");
  }

  private static boolean isTrue(JsonNode conditions, String type) {
    return "True".equals(condition(conditions, type).path("status").asText());
  }

  private static JsonNode condition(JsonNode conditions, String type) {
    for (JsonNode c : conditions) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  private static String text(JsonNode node) {
    return node.isTextual() && !node.asText().isBlank() ? node.asText() : null;
  }
}
