package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Loss scaling, with the defaults and semantics of PyTorch's GradScaler. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LossScalingSpec {

  /** Whether the scale adapts to overflows or stays fixed. */
  public enum Mode {
    @JsonProperty("dynamic")
    DYNAMIC,
    @JsonProperty("static")
    STATIC
  }

  @JsonPropertyDescription(
      "dynamic: back off on overflow, grow after growthInterval clean steps; static: keep initialScale.")
  public Mode mode = Mode.DYNAMIC;

  @Min(1)
  @JsonPropertyDescription("Scale of the first step (default 65536 = 2^16).")
  public double initialScale = 65536.0;

  @Min(value = 1, inclusive = false)
  @JsonPropertyDescription(
      "Factor the scale grows by after growthInterval steps without overflow (default 2.0).")
  public double growthFactor = 2.0;

  @Min(value = 0, inclusive = false)
  @Max(value = 1, inclusive = false)
  @JsonPropertyDescription(
      "Factor the scale shrinks by after an overflow, between 0 and 1 exclusive (default 0.5).")
  public double backoffFactor = 0.5;

  @Min(1)
  @JsonPropertyDescription(
      "Number of consecutive steps without overflow before the scale grows (default 2000).")
  public int growthInterval = 2000;

  @Min(0)
  @JsonPropertyDescription("The scale never backs off below this (default 1).")
  public double minScale = 1.0;
}
