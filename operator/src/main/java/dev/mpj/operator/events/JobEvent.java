package dev.mpj.operator.events;

/**
 * A Kubernetes Event about a job: {@code type} Normal or Warning, a CamelCase reason, a sentence.
 */
public record JobEvent(String type, String reason, String message) {
  public static JobEvent normal(String reason, String message) {
    return new JobEvent("Normal", reason, message);
  }

  public static JobEvent warning(String reason, String message) {
    return new JobEvent("Warning", reason, message);
  }
}
