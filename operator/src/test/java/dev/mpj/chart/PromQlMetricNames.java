package dev.mpj.chart;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The metric names a PromQL expression selects, by a small tokenizer: it skips string literals,
 * numbers and durations, label matchers ({@code {...}}), ranges ({@code [...]}), the label lists of
 * {@code by}, {@code without}, {@code on}, {@code ignoring}, {@code group_left} and {@code
 * group_right}, keywords, functions (a name followed by {@code (}) and Grafana's variables ({@code
 * $name}, {@code ${name}}, {@code $__rate_interval}). What is left are metric names.
 */
final class PromQlMetricNames {
  private static final Set<String> KEYWORDS =
      Set.of(
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "and",
          "or",
          "unless",
          "offset",
          "atan2",
          "inf",
          "nan");
  private static final Set<String> LABEL_LISTS =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

  /** Aggregations may put their clause first: {@code sum by (le) (x)}. */
  private static final Set<String> AGGREGATIONS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "group",
          "stddev",
          "stdvar",
          "count",
          "count_values",
          "bottomk",
          "topk",
          "quantile",
          "limitk",
          "limit_ratio");

  private PromQlMetricNames() {}

  static Set<String> of(String expression) {
    Set<String> names = new LinkedHashSet<>();
    String e = expression;
    int i = 0;
    while (i < e.length()) {
      char c = e.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(e, i);
      } else if (c == '{') {
        i = skipTo(e, i, '}');
      } else if (c == '[') {
        i = skipTo(e, i, ']');
      } else if (c == '$') {
        i++;
        if (i < e.length() && e.charAt(i) == '{') {
          i = skipTo(e, i, '}');
        } else {
          while (i < e.length() && isNamePart(e.charAt(i))) {
            i++;
          }
        }
      } else if (Character.isDigit(c)
          || (c == '.' && i + 1 < e.length() && Character.isDigit(e.charAt(i + 1)))) {
        while (i < e.length()
            && (Character.isLetterOrDigit(e.charAt(i))
                || e.charAt(i) == '.'
                || ((e.charAt(i) == '+' || e.charAt(i) == '-')
                    && (e.charAt(i - 1) == 'e' || e.charAt(i - 1) == 'E')))) {
          i++;
        }
      } else if (isNameStart(c)) {
        int start = i;
        while (i < e.length() && isNamePart(e.charAt(i))) {
          i++;
        }
        String word = e.substring(start, i);
        int next = skipBlanks(e, i);
        char after = next < e.length() ? e.charAt(next) : 0;
        String lower = word.toLowerCase();
        if (LABEL_LISTS.contains(lower)) {
          if (after == '(') {
            i = skipTo(e, next, ')');
          }
        } else if (KEYWORDS.contains(lower)) {
          // an operator or a literal
        } else if (after == '(') {
          // a function or an aggregation: its arguments are read on
        } else if (AGGREGATIONS.contains(lower) && nextWordIsClause(e, next)) {
          // sum by (...) (...)
        } else {
          names.add(word);
        }
      } else {
        i++;
      }
    }
    return names;
  }

  private static boolean nextWordIsClause(String e, int i) {
    int end = i;
    while (end < e.length() && isNamePart(e.charAt(end))) {
      end++;
    }
    String word = e.substring(i, end).toLowerCase();
    return word.equals("by") || word.equals("without");
  }

  private static int skipString(String e, int i) {
    char quote = e.charAt(i);
    i++;
    while (i < e.length() && e.charAt(i) != quote) {
      i += e.charAt(i) == '\\' && quote != '`' ? 2 : 1;
    }
    if (i >= e.length()) {
      throw new IllegalArgumentException("unterminated string in " + e);
    }
    return i + 1;
  }

  /**
   * Skips to just after the {@code close} that matches the opener at {@code i}, over strings
   * inside.
   */
  private static int skipTo(String e, int i, char close) {
    char open = e.charAt(i);
    int depth = 0;
    while (i < e.length()) {
      char c = e.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(e, i);
        continue;
      }
      if (c == open) {
        depth++;
      } else if (c == close && --depth == 0) {
        return i + 1;
      }
      i++;
    }
    throw new IllegalArgumentException("no '" + close + "' closes the '" + open + "' in " + e);
  }

  private static int skipBlanks(String e, int i) {
    while (i < e.length() && Character.isWhitespace(e.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isNameStart(char c) {
    return Character.isLetter(c) || c == '_' || c == ':';
  }

  private static boolean isNamePart(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == ':';
  }
}
