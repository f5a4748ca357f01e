package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A label selector as the API server reads {@code ?labelSelector=}: comma-separated requirements
 * {@code k=v}, {@code k==v}, {@code k!=v}, {@code k in (a,b)}, {@code k notin (a,b)}, {@code k}
 * (the label exists) and {@code !k} (it does not). An object matches when every requirement holds
 * for its {@code metadata.labels}.
 */
record LabelSelector(List<Requirement> requirements) {

  /** One requirement: a key, how it is compared, and the values it is compared with. */
  record Requirement(String key, Operator operator, Set<String> values) {
    boolean holds(JsonNode labels) {
      JsonNode value = labels.path(key);
      boolean present = value.isTextual();
      return switch (operator) {
        case IN -> present && values.contains(value.asText());
        case NOT_IN -> !present || !values.contains(value.asText());
        case EXISTS -> present;
        case DOES_NOT_EXIST -> !present;
      };
    }
  }

  enum Operator {
    IN,
    NOT_IN,
    EXISTS,
    DOES_NOT_EXIST
  }

  static final LabelSelector EVERYTHING = new LabelSelector(List.of());

  /** The selector of this text; null or blank selects everything. */
  static LabelSelector parse(String text) {
    if (text == null || text.isBlank()) {
      return EVERYTHING;
    }
    List<Requirement> requirements = new ArrayList<>();
    for (String term : splitTerms(text)) {
      String t = term.trim();
      if (t.isEmpty()) {
        continue;
      }
      int notIn = t.indexOf(" notin ");
      int in = t.indexOf(" in ");
      if (notIn > 0) {
        requirements.add(
            new Requirement(t.substring(0, notIn).trim(), Operator.NOT_IN, set(t, notIn + 7)));
      } else if (in > 0) {
        requirements.add(new Requirement(t.substring(0, in).trim(), Operator.IN, set(t, in + 4)));
      } else if (t.contains("!=")) {
        int ne = t.indexOf("!=");
        requirements.add(
            new Requirement(
                t.substring(0, ne).trim(), Operator.NOT_IN, Set.of(t.substring(ne + 2).trim())));
      } else if (t.contains("=")) {
        int eq = t.indexOf('=');
        String value = t.substring(eq + 1);
        value = value.startsWith("=") ? value.substring(1) : value;
        requirements.add(
            new Requirement(t.substring(0, eq).trim(), Operator.IN, Set.of(value.trim())));
      } else if (t.startsWith("!")) {
        requirements.add(new Requirement(t.substring(1).trim(), Operator.DOES_NOT_EXIST, Set.of()));
      } else {
        requirements.add(new Requirement(t, Operator.EXISTS, Set.of()));
      }
    }
    return new LabelSelector(List.copyOf(requirements));
  }

  boolean matches(JsonNode object) {
    JsonNode labels = object.at("/metadata/labels");
    return requirements.stream().allMatch(r -> r.holds(labels));
  }

  /** The terms, split at commas outside parentheses. */
  private static List<String> splitTerms(String text) {
    List<String> terms = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        terms.add(text.substring(start, i));
        start = i + 1;
      }
    }
    terms.add(text.substring(start));
    return terms;
  }

  /** The values of {@code (a, b)} starting at {@code from}. */
  private static Set<String> set(String term, int from) {
    String list = term.substring(from).trim();
    if (list.startsWith("(") && list.endsWith(")")) {
      list = list.substring(1, list.length() - 1);
    }
    Set<String> values = new java.util.HashSet<>();
    for (String v : list.split(",")) {
      if (!v.isBlank()) {
        values.add(v.trim());
      }
    }
    return Set.copyOf(values);
  }
}
