package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The newest complete checkpoint. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointStatus {
  @JsonPropertyDescription("Step the checkpoint was taken after.")
  public Long step;

  @JsonPropertyDescription("When it was published (RFC 3339).")
  public String time;

  @JsonPropertyDescription("Its folder on the checkpoint volume.")
  public String path;
}
