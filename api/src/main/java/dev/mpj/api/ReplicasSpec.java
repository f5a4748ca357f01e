package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Bounds on the number of data-parallel replicas. Both default in the schema, so the API server
 * fills an omitted bound before the CEL rule reads it.
 */
@ValidationRule(
    value = "self.min <= self.max",
    message = "replicas.min must not exceed replicas.max")
public class ReplicasSpec {
  @Min(1)
  @Default("1")
  @JsonPropertyDescription("Fewest replicas the job may run with (default 1).")
  public int min = 1;

  @Min(1)
  @Default("1")
  @JsonPropertyDescription("Most replicas the job may run with (default 1).")
  public int max = 1;
}
