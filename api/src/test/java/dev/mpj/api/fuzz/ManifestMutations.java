package dev.mpj.api.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.api.validation.Violation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Mutations of the valid example jobs (docs/examples) for property-based tests: one field of one
 * example removed, replaced by a value of another type, range or script, or joined by an unknown
 * field. Shared with the operator's and the trainer's tests through the api test-jar.
 */
public final class ManifestMutations {

  private static final ObjectMapper YAML = JobFiles.yamlMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** What a mutation does to the field it picks. */
  public enum Kind {
    REMOVE,
    REPLACE,
    ADD_FIELD
  }

  /** Values that replace a field: wrong types, edges of ranges, huge numbers, unicode, empties. */
  static final List<JsonNode> VALUES =
      List.of(
          NODES.textNode(""),
          NODES.textNode(" "),
          NODES.textNode("ℵ₀ üñïçødé 🚀"),
          NODES.textNode("\u0000\u202e"),
          NODES.textNode("x".repeat(5000)),
          NODES.textNode("1e9"),
          NODES.textNode("16Gi"),
          NODES.numberNode(0),
          NODES.numberNode(-1),
          NODES.numberNode(1),
          NODES.numberNode(2),
          NODES.numberNode(Integer.MAX_VALUE),
          NODES.numberNode(Integer.MIN_VALUE),
          NODES.numberNode(2_147_483_648L),
          NODES.numberNode(Long.MAX_VALUE),
          NODES.numberNode(new BigInteger("123456789012345678901234567890")),
          NODES.numberNode(-0.0),
          NODES.numberNode(0.5),
          NODES.numberNode(1e308),
          NODES.numberNode(-1e308),
          NODES.numberNode(Double.MIN_VALUE),
          NODES.numberNode(new BigDecimal("1e400")),
          NODES.numberNode(Double.NaN),
          NODES.numberNode(Double.POSITIVE_INFINITY),
          NODES.booleanNode(true),
          NODES.nullNode(),
          NODES.arrayNode(),
          NODES.arrayNode().add(1).add("two"),
          NODES.objectNode(),
          NODES.objectNode().put("unexpected", 1));

  static final List<String> EXTRA_FIELD_NAMES =
      List.of("extra", "ünïcode-field", "", "replicas ", "spec", "x".repeat(300));

  /** One mutated manifest and what was done to it, for the failure report. */
  public record MutatedJob(String example, String path, Kind kind, String value, String yaml) {
    @Override
    public String toString() {
      String shown = value == null ? "" : " " + abbreviate(value);
      return example + ": " + kind + " " + path + shown;
    }
  }

  /** What the validator says of a manifest: null when it is valid, else every violation. */
  public static List<Violation> violations(String yaml) {
    try {
      MixedPrecisionJob job = JobFiles.parse(yaml);
      List<Violation> violations = SpecValidator.validate(job);
      return violations.isEmpty() ? null : violations;
    } catch (InvalidJobException e) {
      return e.violations();
    }
  }

  /**
   * {@code count} mutated example jobs drawn from {@code seed} (the same seed, the same jobs); each
   * draws an example, a field, a kind of mutation and a value.
   */
  public static List<MutatedJob> mutatedJobs(long seed, int count) {
    List<Path> examples = examples();
    Random random = new Random(seed);
    List<MutatedJob> jobs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      jobs.add(
          mutate(
              examples.get(random.nextInt(examples.size())),
              random.nextInt(100_001),
              Kind.values()[random.nextInt(Kind.values().length)],
              random.nextInt(VALUES.size()),
              random.nextInt(EXTRA_FIELD_NAMES.size())));
    }
    return jobs;
  }

  static MutatedJob mutate(Path example, int field, Kind kind, int value, int extraName) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readString(example));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<List<Object>> paths = new ArrayList<>();
    collect(root, List.of(), paths);
    List<Object> path = paths.get(field % paths.size());
    String shown = null;
    switch (kind) {
      case REMOVE -> {
        JsonNode parent = at(root, path.subList(0, path.size() - 1));
        Object step = path.get(path.size() - 1);
        if (parent instanceof ArrayNode array) {
          array.remove((Integer) step);
        } else {
          ((ObjectNode) parent).remove((String) step);
        }
      }
      case REPLACE -> {
        JsonNode replacement = VALUES.get(value);
        JsonNode parent = at(root, path.subList(0, path.size() - 1));
        Object step = path.get(path.size() - 1);
        if (parent instanceof ArrayNode array) {
          array.set((Integer) step, replacement);
        } else {
          ((ObjectNode) parent).set((String) step, replacement);
        }
        shown = replacement.toString();
      }
      case ADD_FIELD -> {
        String name = EXTRA_FIELD_NAMES.get(extraName);
        List<Object> holder = new ArrayList<>(path);
        while (!(at(root, holder) instanceof ObjectNode)) {
          holder.remove(holder.size() - 1);
        }
        ObjectNode object = (ObjectNode) at(root, holder);
        String added = object.has(name) ? name + "-extra" : name;
        object.set(added, VALUES.get(value));
        holder.add(added);
        path = holder;
        shown = VALUES.get(value).toString();
      }
    }
    return new MutatedJob(
        example.getFileName().toString(), render(path), kind, shown, JobFiles.toYaml(root));
  }

  /** The example jobs of the repository (surefire runs in a module folder). */
  public static List<Path> examples() {
    Path folder = Path.of("").toAbsolutePath().getParent().resolve("docs").resolve("examples");
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether a violation's field names the mutated field, one of its ancestors or descendants, or a
   * sibling (a cross-field rule of the same object).
   */
  public static boolean relates(String violationField, String mutatedPath) {
    String v = normalize(violationField);
    String m = normalize(mutatedPath);
    if (v.isEmpty() || v.startsWith("(")) {
      return false;
    }
    if (v.equals(m) || m.startsWith(v + ".") || v.startsWith(m + ".")) {
      return true;
    }
    int dot = m.lastIndexOf('.');
    return dot > 0 && v.startsWith(m.substring(0, dot + 1));
  }

  private static String normalize(String path) {
    return path.replaceAll("\\[\\d+]", "").replaceAll("\\.$", "");
  }

  private static void collect(JsonNode node, List<Object> path, List<List<Object>> out) {
    if (node instanceof ObjectNode object) {
      object
          .fieldNames()
          .forEachRemaining(
              name -> {
                List<Object> child = new ArrayList<>(path);
                child.add(name);
                out.add(child);
                collect(object.get(name), child, out);
              });
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        List<Object> child = new ArrayList<>(path);
        child.add(i);
        out.add(child);
        collect(array.get(i), child, out);
      }
    }
  }

  private static JsonNode at(JsonNode root, List<Object> path) {
    JsonNode node = root;
    for (Object step : path) {
      node = step instanceof Integer i ? node.get(i) : node.get((String) step);
    }
    return node;
  }

  /** A path as the validator writes it: spec.model.mlp.hiddenSizes[0]. */
  private static String render(List<Object> path) {
    StringBuilder text = new StringBuilder();
    for (Object step : path) {
      if (step instanceof Integer i) {
        text.append('[').append(i).append(']');
      } else {
        String name = (String) step;
        text.append(text.length() == 0 ? "" : ".")
            .append(name.matches("[A-Za-z0-9_-]+") ? name : "\"" + name + "\"");
      }
    }
    return text.toString();
  }

  private static String abbreviate(String value) {
    return value.length() > 40 ? value.substring(0, 37) + "..." : value;
  }

  private ManifestMutations() {}
}
