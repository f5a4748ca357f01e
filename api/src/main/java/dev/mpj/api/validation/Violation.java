package dev.mpj.api.validation;

/**
 * One thing wrong with a job, and the field it is wrong in (a path such as
 * spec.training.globalBatchSize).
 */
public record Violation(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}
