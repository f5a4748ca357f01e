package dev.mpj.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): {@code # HELP} and {@code # TYPE}
 * lines, samples with escaped label values, special float values and optional timestamps. It
 * refuses what Prometheus would refuse or what would make a scrape ambiguous: a malformed line, a
 * family split into two groups, a TYPE after its samples, the same series twice, a histogram
 * without its +Inf bucket. Shared with the operator's and the trainer's tests through the api
 * module's test-jar.
 */
public final class PrometheusExposition {
  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Set<String> TYPES =
      Set.of("counter", "gauge", "histogram", "summary", "untyped");

  /** One sample line. */
  public record Sample(
      String name, Map<String, String> labels, double value, Long timestampMillis) {
    public String label(String name) {
      return labels.get(name);
    }
  }

  /** A metric family: the samples under one {@code # TYPE} (or one name, when untyped). */
  public record Family(String name, String type, String help, List<Sample> samples) {}

  private final Map<String, Family> families;

  private PrometheusExposition(Map<String, Family> families) {
    this.families = families;
  }

  /** The families in the order of the text. */
  public List<Family> families() {
    return List.copyOf(families.values());
  }

  public Set<String> familyNames() {
    return Collections.unmodifiableSet(families.keySet());
  }

  public Optional<Family> family(String name) {
    return Optional.ofNullable(families.get(name));
  }

  /**
   * Every sample called exactly {@code sampleName} (for a histogram: {@code x_bucket}, {@code
   * x_count}...).
   */
  public List<Sample> samples(String sampleName) {
    return families.values().stream()
        .flatMap(f -> f.samples().stream())
        .filter(s -> s.name().equals(sampleName))
        .toList();
  }

  /** Samples called {@code sampleName} whose labels include all of {@code labels}. */
  public List<Sample> samples(String sampleName, Map<String, String> labels) {
    return samples(sampleName).stream()
        .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
        .toList();
  }

  /**
   * The value of the one sample called {@code sampleName} with these labels (and maybe more); empty
   * if none.
   */
  public Optional<Double> value(String sampleName, Map<String, String> labels) {
    List<Sample> found = samples(sampleName, labels);
    if (found.size() > 1) {
      throw new IllegalArgumentException(
          found.size() + " samples " + sampleName + " match " + labels + ": " + found);
    }
    return found.stream().findFirst().map(Sample::value);
  }

  /**
   * The sum of the samples called {@code sampleName} whose labels include {@code labels}; 0 when
   * none.
   */
  public double sum(String sampleName, Map<String, String> labels) {
    return samples(sampleName, labels).stream().mapToDouble(Sample::value).sum();
  }

  /**
   * Parses a whole exposition; throws {@link ParseException} naming the line of the first error.
   */
  public static PrometheusExposition parse(String text) {
    return new Parser().parse(text);
  }

  /** The text is not valid exposition format. */
  public static final class ParseException extends RuntimeException {
    ParseException(int line, String message) {
      super(line > 0 ? "line " + line + ": " + message : message);
    }
  }

  private static final class Parser {
    private final Map<String, String> types = new LinkedHashMap<>();
    private final Map<String, String> helps = new LinkedHashMap<>();
    private final Map<String, List<Sample>> samples = new LinkedHashMap<>();
    private final Set<String> closed = new HashSet<>();
    private final Set<String> series = new HashSet<>();
    private String current;
    private int lineNumber;

    PrometheusExposition parse(String text) {
      if (!text.isEmpty() && !text.endsWith("\n")) {
        throw new ParseException(
            text.split("\n", -1).length, "the exposition must end with a line feed");
      }
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length - 1; i++) {
        lineNumber = i + 1;
        String line = lines[i];
        if (line.isBlank()) {
          continue;
        }
        if (line.startsWith("#")) {
          comment(line);
        } else {
          sample(line);
        }
      }
      Map<String, Family> families = new LinkedHashMap<>();
      for (String name : order()) {
        String type = types.getOrDefault(name, "untyped");
        List<Sample> list = samples.getOrDefault(name, List.of());
        if (type.equals("histogram")) {
          checkHistogram(name, list);
        }
        families.put(name, new Family(name, type, helps.get(name), List.copyOf(list)));
      }
      return new PrometheusExposition(families);
    }

    private List<String> order() {
      List<String> names = new ArrayList<>();
      for (String name : types.keySet()) {
        names.add(name);
      }
      for (String name : samples.keySet()) {
        if (!names.contains(name)) {
          names.add(name);
        }
      }
      for (String name : helps.keySet()) {
        if (!names.contains(name)) {
          names.add(name);
        }
      }
      return names;
    }

    private void comment(String line) {
      String[] parts = line.split("[ \t]+", 4);
      if (parts.length < 3
          || !parts[0].equals("#")
          || !(parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
        return; // an ordinary comment
      }
      String name = parts[2];
      requireName(name);
      String rest = parts.length > 3 ? parts[3] : "";
      if (parts[1].equals("TYPE")) {
        if (types.containsKey(name)) {
          throw new ParseException(lineNumber, "second TYPE line for " + name);
        }
        if (samples.containsKey(name) || closed.contains(name)) {
          throw new ParseException(lineNumber, "TYPE line for " + name + " after its samples");
        }
        if (!TYPES.contains(rest.trim())) {
          throw new ParseException(lineNumber, "unknown type '" + rest.trim() + "' for " + name);
        }
        types.put(name, rest.trim());
      } else {
        if (helps.containsKey(name)) {
          throw new ParseException(lineNumber, "second HELP line for " + name);
        }
        helps.put(name, unescapeHelp(rest));
      }
      enter(name);
    }

    private void sample(String line) {
      Cursor c = new Cursor(line);
      String name = c.take(METRIC_NAME, "metric name");
      Map<String, String> labels = new TreeMap<>();
      boolean blank = c.skipBlanks();
      if (!c.atEnd() && c.peek() == '{') {
        c.next();
        labels(c, labels);
        blank = c.skipBlanks();
      }
      if (!blank) {
        throw new ParseException(lineNumber, "expected a blank before the value of " + name);
      }
      double value = parseValue(c.token(), name);
      Long timestamp = null;
      if (c.skipBlanks() && !c.atEnd()) {
        String ts = c.token();
        try {
          timestamp = Long.parseLong(ts);
        } catch (NumberFormatException e) {
          throw new ParseException(
              lineNumber, "timestamp '" + ts + "' of " + name + " is not an integer");
        }
      }
      c.skipBlanks();
      if (!c.atEnd()) {
        throw new ParseException(
            lineNumber, "unexpected text after the sample: '" + c.rest() + "'");
      }
      String family = familyOf(name, labels);
      enter(family);
      String key = name + labels;
      if (!series.add(key)) {
        throw new ParseException(lineNumber, "the series " + key + " appears twice");
      }
      samples
          .computeIfAbsent(family, k -> new ArrayList<>())
          .add(new Sample(name, Map.copyOf(labels), value, timestamp));
    }

    private void labels(Cursor c, Map<String, String> labels) {
      c.skipBlanks();
      while (c.peek() != '}') {
        String label = c.take(LABEL_NAME, "label name");
        c.skipBlanks();
        c.expect('=');
        c.skipBlanks();
        c.expect('"');
        StringBuilder value = new StringBuilder();
        while (true) {
          if (c.atEnd()) {
            throw new ParseException(lineNumber, "unterminated value of label " + label);
          }
          char ch = c.next();
          if (ch == '"') {
            break;
          }
          if (ch == '\\') {
            if (c.atEnd()) {
              throw new ParseException(lineNumber, "unterminated escape in label " + label);
            }
            char e = c.next();
            switch (e) {
              case '\\' -> value.append('\\');
              case '"' -> value.append('"');
              case 'n' -> value.append('\n');
              default ->
                  throw new ParseException(lineNumber, "bad escape \\" + e + " in label " + label);
            }
          } else {
            value.append(ch);
          }
        }
        if (labels.put(label, value.toString()) != null) {
          throw new ParseException(lineNumber, "label " + label + " appears twice");
        }
        c.skipBlanks();
        if (c.peek() == ',') {
          c.next();
          c.skipBlanks();
        } else if (c.peek() != '}') {
          throw new ParseException(lineNumber, "expected ',' or '}' after label " + label);
        }
      }
      c.next();
    }

    /**
     * x_bucket, x_sum, x_count belong to histogram x; x_sum, x_count and x{quantile} to summary x.
     */
    private String familyOf(String name, Map<String, String> labels) {
      for (String suffix : List.of("_bucket", "_sum", "_count")) {
        if (name.endsWith(suffix)) {
          String base = name.substring(0, name.length() - suffix.length());
          String type = types.get(base);
          if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
            if (suffix.equals("_bucket") && !labels.containsKey("le")) {
              throw new ParseException(lineNumber, name + " has no le label");
            }
            return base;
          }
        }
      }
      String type = types.get(name);
      if ("histogram".equals(type)) {
        throw new ParseException(
            lineNumber, "histogram " + name + " has a sample without _bucket, _sum or _count");
      }
      return name;
    }

    /** Samples of one family are one group: once another family starts, this one is closed. */
    private void enter(String family) {
      if (family.equals(current)) {
        return;
      }
      if (closed.contains(family)) {
        throw new ParseException(lineNumber, "the lines of " + family + " are not one group");
      }
      if (current != null) {
        closed.add(current);
      }
      current = family;
    }

    private void checkHistogram(String name, List<Sample> list) {
      Map<Map<String, String>, List<Sample>> bySeries =
          list.stream()
              .filter(s -> s.name().equals(name + "_bucket"))
              .collect(
                  Collectors.groupingBy(
                      s -> without(s.labels(), "le"), LinkedHashMap::new, Collectors.toList()));
      for (var entry : bySeries.entrySet()) {
        List<Sample> buckets = new ArrayList<>(entry.getValue());
        buckets.sort((a, b) -> Double.compare(parseLe(a), parseLe(b)));
        Sample last = buckets.get(buckets.size() - 1);
        if (parseLe(last) != Double.POSITIVE_INFINITY) {
          throw new ParseException(
              0, "histogram " + name + entry.getKey() + " has no le=\"+Inf\" bucket");
        }
        for (int i = 1; i < buckets.size(); i++) {
          if (buckets.get(i).value() < buckets.get(i - 1).value()) {
            throw new ParseException(
                0, "histogram " + name + entry.getKey() + " has decreasing bucket counts");
          }
        }
        Optional<Sample> count =
            list.stream()
                .filter(s -> s.name().equals(name + "_count") && s.labels().equals(entry.getKey()))
                .findFirst();
        if (count.isPresent() && count.get().value() != last.value()) {
          throw new ParseException(
              0, "histogram " + name + entry.getKey() + ": _count differs from the +Inf bucket");
        }
      }
    }

    private double parseLe(Sample bucket) {
      return parseValue(bucket.label("le"), bucket.name());
    }

    private double parseValue(String token, String name) {
      switch (token) {
        case "NaN":
          return Double.NaN;
        case "+Inf":
        case "Inf":
          return Double.POSITIVE_INFINITY;
        case "-Inf":
          return Double.NEGATIVE_INFINITY;
        default:
          if (!token.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
            throw new ParseException(
                lineNumber, "value '" + token + "' of " + name + " is not a number");
          }
          return Double.parseDouble(token);
      }
    }

    private void requireName(String name) {
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new ParseException(lineNumber, "bad metric name '" + name + "'");
      }
    }

    private static Map<String, String> without(Map<String, String> labels, String name) {
      Map<String, String> copy = new TreeMap<>(labels);
      copy.remove(name);
      return copy;
    }

    private static String unescapeHelp(String help) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < help.length(); i++) {
        char ch = help.charAt(i);
        if (ch == '\\'
            && i + 1 < help.length()
            && (help.charAt(i + 1) == '\\' || help.charAt(i + 1) == 'n')) {
          out.append(help.charAt(++i) == 'n' ? '\n' : '\\');
        } else {
          out.append(ch);
        }
      }
      return out.toString();
    }

    /** Reads one line left to right. */
    private final class Cursor {
      private final String line;
      private int pos;

      Cursor(String line) {
        this.line = line;
      }

      boolean atEnd() {
        return pos >= line.length();
      }

      char peek() {
        if (atEnd()) {
          throw new ParseException(lineNumber, "unexpected end of line: " + line);
        }
        return line.charAt(pos);
      }

      char next() {
        char ch = peek();
        pos++;
        return ch;
      }

      void expect(char ch) {
        if (atEnd() || line.charAt(pos) != ch) {
          throw new ParseException(
              lineNumber, "expected '" + ch + "' at column " + (pos + 1) + ": " + line);
        }
        pos++;
      }

      /** Skips spaces and tabs; true if there were any. */
      boolean skipBlanks() {
        int start = pos;
        while (!atEnd() && (line.charAt(pos) == ' ' || line.charAt(pos) == '\t')) {
          pos++;
        }
        return pos > start;
      }

      String token() {
        int start = pos;
        while (!atEnd() && line.charAt(pos) != ' ' && line.charAt(pos) != '\t') {
          pos++;
        }
        if (pos == start) {
          throw new ParseException(
              lineNumber, "expected a value at column " + (pos + 1) + ": " + line);
        }
        return line.substring(start, pos);
      }

      String take(Pattern pattern, String what) {
        var m = pattern.matcher(line).region(pos, line.length());
        if (!m.lookingAt()) {
          throw new ParseException(
              lineNumber, "expected a " + what + " at column " + (pos + 1) + ": " + line);
        }
        pos = m.end();
        return m.group();
      }

      String rest() {
        return line.substring(pos);
      }
    }
  }
}
