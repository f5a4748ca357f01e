package dev.mpj.api.validation;

import java.util.List;
import java.util.stream.Collectors;

/** A job that cannot run as written; carries every violation found, each naming its field. */
public class InvalidJobException extends RuntimeException {
  private final List<Violation> violations;

  public InvalidJobException(List<Violation> violations) {
    super(describe(violations));
    this.violations = List.copyOf(violations);
  }

  public InvalidJobException(String field, String message) {
    this(List.of(new Violation(field, message)));
  }

  public List<Violation> violations() {
    return violations;
  }

  private static String describe(List<Violation> violations) {
    return violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
  }
}
