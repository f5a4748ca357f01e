package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The FP32 fallback of an fp16-mixed job (spec.parity.onDivergence: fallback-fp32). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PrecisionFallbackStatus {
  @JsonPropertyDescription("The precision the job trains in from the fallback on: fp32.")
  public String precision;

  @JsonPropertyDescription("The attempt that started in FP32.")
  public Integer attempt;

  @JsonPropertyDescription("The step at which the trainer reported the run unhealthy.")
  public Long step;

  @JsonPropertyDescription("The health reasons that caused it.")
  public List<String> reasons;

  @JsonPropertyDescription("Why, in words.")
  public String message;

  @JsonPropertyDescription("When the operator decided it (RFC 3339).")
  public String time;
}
