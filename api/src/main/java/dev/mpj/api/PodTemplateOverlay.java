package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** What a user may add to every replica's pod. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class PodTemplateOverlay {
  @JsonPropertyDescription("Extra labels; MPJ's own labels win on conflict.")
  public Map<String, String> labels;

  @JsonPropertyDescription("Extra annotations.")
  public Map<String, String> annotations;

  @JsonPropertyDescription("Node selector; sizing reads the GPU memory of the nodes it matches.")
  public Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations, e.g. for nvidia.com/gpu taints.")
  public List<Toleration> tolerations;

  @JsonPropertyDescription("Affinity rules.")
  public Affinity affinity;

  @JsonPropertyDescription("Priority class of the pods.")
  public String priorityClassName;

  @JsonPropertyDescription("Scheduler, e.g. a gang scheduler.")
  public String schedulerName;

  @JsonPropertyDescription("Service account of the pods. Unset: the namespace's default.")
  public String serviceAccountName;
}
