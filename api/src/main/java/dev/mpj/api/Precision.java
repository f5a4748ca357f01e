package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The numeric precision a job trains in; names as PyTorch Lightning and Accelerate use them. */
public enum Precision {
  @JsonProperty("fp32")
  FP32("fp32"),
  @JsonProperty("fp16-mixed")
  FP16_MIXED("fp16-mixed"),
  /**
   * Accepted by the schema so that the refusal can explain itself: the DJL PyTorch engine has no
   * BF16.
   */
  @JsonProperty("bf16-mixed")
  BF16_MIXED("bf16-mixed");

  private final String value;

  Precision(String value) {
    this.value = value;
  }

  public String value() {
    return value;
  }

  public boolean isMixed() {
    return this != FP32;
  }

  @Override
  public String toString() {
    return value;
  }
}
