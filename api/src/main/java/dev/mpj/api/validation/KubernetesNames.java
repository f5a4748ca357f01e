package dev.mpj.api.validation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rules a Kubernetes API server applies to object names, label keys and values, and
 * annotations, with the messages it answers (k8s.io/apimachinery/pkg/util/validation). Each check
 * returns the problems, empty when the value is valid.
 */
public final class KubernetesNames {
  public static final int LABEL_MAX = 63;
  public static final int SUBDOMAIN_MAX = 253;

  /** The most bytes all of an object's annotations (keys and values) may take. */
  public static final int ANNOTATIONS_MAX_BYTES = 256 * 1024;

  private static final String LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final String SUBDOMAIN_FMT = LABEL_FMT + "(\\." + LABEL_FMT + ")*";
  private static final String DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
  private static final String QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
  private static final String LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?";

  private static final Pattern LABEL = Pattern.compile(LABEL_FMT);
  private static final Pattern SUBDOMAIN = Pattern.compile(SUBDOMAIN_FMT);
  private static final Pattern DNS1035 = Pattern.compile(DNS1035_FMT);
  private static final Pattern QUALIFIED_NAME = Pattern.compile(QUALIFIED_NAME_FMT);
  private static final Pattern LABEL_VALUE = Pattern.compile(LABEL_VALUE_FMT);

  /** What a generated name must be valid as; each kind of object names its rule. */
  public enum Rule {
    /** Pods' hostname and subdomain, namespaces. */
    DNS1123_LABEL(LABEL_MAX),
    /** Most object names: pods, ConfigMaps, Secrets, claims, Events, custom resources. */
    DNS1123_SUBDOMAIN(SUBDOMAIN_MAX),
    /** Services. */
    DNS1035_LABEL(LABEL_MAX),
    /** Label values. */
    LABEL_VALUE(LABEL_MAX);

    public final int maxLength;

    Rule(int maxLength) {
      this.maxLength = maxLength;
    }

    public List<String> check(String value) {
      return switch (this) {
        case DNS1123_LABEL -> dns1123Label(value);
        case DNS1123_SUBDOMAIN -> dns1123Subdomain(value);
        case DNS1035_LABEL -> dns1035Label(value);
        case LABEL_VALUE -> labelValue(value);
      };
    }
  }

  private KubernetesNames() {}

  public static List<String> dns1123Label(String value) {
    return check(
        value,
        LABEL_MAX,
        LABEL,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or"
            + " '-', and must start and end with an alphanumeric character",
        LABEL_FMT,
        "my-name",
        "123-abc");
  }

  public static List<String> dns1123Subdomain(String value) {
    return check(
        value,
        SUBDOMAIN_MAX,
        SUBDOMAIN,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters,"
            + " '-' or '.', and must start and end with an alphanumeric character",
        SUBDOMAIN_FMT,
        "example.com");
  }

  public static List<String> dns1035Label(String value) {
    return check(
        value,
        LABEL_MAX,
        DNS1035,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start"
            + " with an alphabetic character, and end with an alphanumeric character",
        DNS1035_FMT,
        "my-name",
        "abc-123");
  }

  public static List<String> labelValue(String value) {
    return check(
        value,
        LABEL_MAX,
        LABEL_VALUE,
        "a valid label must be an empty string or consist of alphanumeric characters, '-',"
            + " '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE_FMT,
        "MyValue",
        "my_value",
        "12345");
  }

  /** At most {@code max} characters and matching {@code pattern}, with the API server's wording. */
  private static List<String> check(
      String value, int max, Pattern pattern, String message, String format, String... examples) {
    List<String> errors = new ArrayList<>();
    if (value.length() > max) {
      errors.add(maxLength(max));
    }
    if (!pattern.matcher(value).matches()) {
      errors.add(regexError(message, format, examples));
    }
    return errors;
  }

  /** A label or annotation key: an optional DNS-1123 subdomain prefix and '/', then a name. */
  public static List<String> qualifiedName(String value) {
    List<String> errors = new ArrayList<>();
    String[] parts = value.split("/", -1);
    String name;
    if (parts.length == 1) {
      name = parts[0];
    } else if (parts.length == 2) {
      String prefix = parts[0];
      name = parts[1];
      if (prefix.isEmpty()) {
        errors.add("prefix part must be non-empty");
      } else {
        dns1123Subdomain(prefix).forEach(e -> errors.add("prefix part " + e));
      }
    } else {
      errors.add(
          "a qualified name "
              + regexError(
                  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end"
                      + " with an alphanumeric character",
                  QUALIFIED_NAME_FMT,
                  "MyName",
                  "my.name",
                  "123-abc")
              + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errors;
    }
    if (name.isEmpty()) {
      errors.add("name part must be non-empty");
    } else if (name.length() > LABEL_MAX) {
      errors.add("name part " + maxLength(LABEL_MAX));
    }
    if (!name.isEmpty() && !QUALIFIED_NAME.matcher(name).matches()) {
      errors.add(
          "name part "
              + regexError(
                  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end"
                      + " with an alphanumeric character",
                  QUALIFIED_NAME_FMT,
                  "MyName",
                  "my.name",
                  "123-abc"));
    }
    return errors;
  }

  /** The bytes annotations take, as the API server counts them: every key and value. */
  public static long annotationsBytes(Map<String, String> annotations) {
    long total = 0;
    for (Map.Entry<String, String> e : annotations.entrySet()) {
      total += e.getKey().getBytes(StandardCharsets.UTF_8).length;
      total += e.getValue() == null ? 0 : e.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    return total;
  }

  /** Every problem of a set of labels, each starting with its field, e.g. {@code f[key]: ...}. */
  public static List<Violation> labels(String field, Map<String, String> labels) {
    List<Violation> violations = new ArrayList<>();
    if (labels == null) {
      return violations;
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      qualifiedName(e.getKey())
          .forEach(m -> violations.add(new Violation(field, quoted(e.getKey()) + ": " + m)));
      String value = e.getValue() == null ? "" : e.getValue();
      labelValue(value)
          .forEach(m -> violations.add(new Violation(field + "[" + e.getKey() + "]", m)));
    }
    return violations;
  }

  /** Every problem of a set of annotations: their keys, and their total size. */
  public static List<Violation> annotations(String field, Map<String, String> annotations) {
    List<Violation> violations = new ArrayList<>();
    if (annotations == null) {
      return violations;
    }
    for (String key : annotations.keySet()) {
      qualifiedName(key).forEach(m -> violations.add(new Violation(field, quoted(key) + ": " + m)));
    }
    if (annotationsBytes(annotations) > ANNOTATIONS_MAX_BYTES) {
      violations.add(
          new Violation(field, "Too long: must have at most " + ANNOTATIONS_MAX_BYTES + " bytes"));
    }
    return violations;
  }

  private static String quoted(String s) {
    return "Invalid value: \"" + s + "\"";
  }

  private static String maxLength(int max) {
    return "must be no more than " + max + " characters";
  }

  private static String regexError(String message, String format, String... examples) {
    StringBuilder s = new StringBuilder(message);
    if (examples.length > 0) {
      s.append(" (e.g. ");
      for (int i = 0; i < examples.length; i++) {
        if (i > 0) {
          s.append(",  or ");
        }
        s.append('\'').append(examples[i]).append('\'');
      }
      s.append(", ");
    } else {
      s.append(" (");
    }
    return s.append("regex used for validation is '").append(format).append("')").toString();
  }
}
