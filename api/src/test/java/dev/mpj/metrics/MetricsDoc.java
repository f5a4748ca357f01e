package dev.mpj.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * docs/reference/metrics.md read as data: one table per component ({@code ## Operator}, {@code ##
 * Trainer}), one row per metric, or per group of metrics ({@code `operator_sdk_*`}).
 */
public final class MetricsDoc {
  public static final Path FILE = Path.of("docs/reference/metrics.md");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  /**
   * One documented metric.
   *
   * @param name the family name as Prometheus lists it in {@code # TYPE}, or a prefix ending in
   *     {@code _} for a group row
   * @param types the allowed types (one, except for a group)
   */
  public record Metric(
      String name,
      boolean group,
      Set<String> types,
      String unit,
      Set<String> labels,
      String meaning) {
    /** Whether a family of this name belongs to this row. */
    public boolean covers(String family) {
      return group ? family.startsWith(name) : family.equals(name);
    }

    /**
     * Whether a sample called {@code sample} belongs to this row (a histogram's _bucket, _sum,
     * _count).
     */
    public boolean coversSample(String sample) {
      if (covers(sample)) {
        return true;
      }
      boolean histogram = types.contains("histogram") || types.contains("summary");
      return histogram
          && List.of("_bucket", "_sum", "_count").stream()
              .anyMatch(
                  suffix ->
                      sample.endsWith(suffix)
                          && covers(sample.substring(0, sample.length() - suffix.length())));
    }
  }

  private final Map<String, List<Metric>> sections;

  private MetricsDoc(Map<String, List<Metric>> sections) {
    this.sections = sections;
  }

  /** Reads the page from the repository that holds {@code start} (or a folder above it). */
  public static MetricsDoc read(Path start) {
    for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(FILE))) {
        try {
          return parse(Files.readString(dir.resolve(FILE)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    throw new IllegalStateException("no " + FILE + " above " + start.toAbsolutePath());
  }

  public static MetricsDoc read() {
    return read(Path.of(""));
  }

  static MetricsDoc parse(String markdown) {
    Map<String, List<Metric>> sections = new LinkedHashMap<>();
    String section = null;
    for (String line : markdown.split("\n")) {
      if (line.startsWith("## ")) {
        section = line.substring(3).trim();
        continue;
      }
      if (section == null || !line.startsWith("| `")) {
        continue;
      }
      String[] cells =
          Arrays.stream(line.substring(1, line.lastIndexOf('|')).split("\\|", -1))
              .map(String::trim)
              .toArray(String[]::new);
      if (cells.length != 5) {
        throw new IllegalStateException(
            "a metrics row has " + cells.length + " cells, not 5: " + line);
      }
      String name = codes(cells[0]).get(0);
      boolean group = name.endsWith("*");
      Set<String> types =
          Arrays.stream(cells[1].split(",")).map(String::trim).collect(Collectors.toSet());
      Set<String> labels = Set.copyOf(codes(cells[3]));
      String family = group ? name.substring(0, name.length() - 1) : name;
      sections
          .computeIfAbsent(section, k -> new ArrayList<>())
          .add(new Metric(family, group, types, cells[2], labels, cells[4]));
    }
    return new MetricsDoc(sections);
  }

  private static List<String> codes(String cell) {
    List<String> codes = new ArrayList<>();
    Matcher m = CODE.matcher(cell);
    while (m.find()) {
      codes.add(m.group(1));
    }
    return codes;
  }

  /** The rows of one component's table, e.g. "Operator" or "Trainer". */
  public List<Metric> section(String name) {
    List<Metric> rows = sections.get(name);
    if (rows == null) {
      throw new IllegalStateException(
          "no section '## " + name + "' in " + FILE + " (has " + sections.keySet() + ")");
    }
    return rows;
  }

  public List<Metric> all() {
    return sections.values().stream().flatMap(List::stream).toList();
  }

  /** The row a family or sample name belongs to. */
  public Optional<Metric> find(String name) {
    return all().stream().filter(m -> m.coversSample(name)).findFirst();
  }
}
