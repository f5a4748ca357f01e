package dev.mpj.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What the fabric8 CRD generator cannot say, added to its output at build time (api/pom.xml runs
 * {@link #main} right after it): printer columns in their declared order with Age last (the
 * generator sorts them by path), {@code listType: map} keyed by {@code type} on status.conditions
 * (kubectl and server-side apply merge conditions by type), the Kubernetes quantity pattern on
 * every quantity, and descriptions of spec and status.
 */
public final class CrdPolish {

  /** The API server's own pattern for a resource.Quantity string (as controller-gen emits it). */
  public static final String QUANTITY_PATTERN =
      "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

  static final String SPEC_DESCRIPTION =
      "What to train and how: precision, model, data and training, the bounds within which the"
          + " operator sizes the replicas, resources, checkpoints, run policy, parity guard and the"
          + " replica pods' template. The operator sizes the job from it; precision and model are"
          + " immutable.";

  static final String STATUS_DESCRIPTION =
      "What the operator observed and decided, written by the operator only: phase, conditions,"
          + " the sizing plan, progress of rank 0, restarts and checkpoints.";

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

  private CrdPolish() {}

  /** Polishes the generated CRD file(s) given as arguments, in place. */
  public static void main(String[] args) throws IOException {
    for (String file : args) {
      Path path = Path.of(file);
      Files.writeString(path, polish(Files.readString(path)));
    }
  }

  public static String polish(String generatedYaml) throws IOException {
    ObjectNode crd = (ObjectNode) YAML.readTree(generatedYaml);
    for (JsonNode version : crd.at("/spec/versions")) {
      orderPrinterColumns((ObjectNode) version);
      ObjectNode root = (ObjectNode) version.at("/schema/openAPIV3Schema");
      ObjectNode properties = (ObjectNode) root.get("properties");
      ((ObjectNode) properties.get("spec")).put("description", SPEC_DESCRIPTION);
      ObjectNode status = (ObjectNode) properties.get("status");
      status.put("description", STATUS_DESCRIPTION);
      conditionsAsMap((ObjectNode) status.at("/properties/conditions"));
      quantityPatterns(root);
    }
    return YAML.writeValueAsString(crd);
  }

  /**
   * The columns in the order MixedPrecisionJob declares them; Age, which kubectl puts last, last.
   */
  private static void orderPrinterColumns(ObjectNode version) {
    JsonNode columns = version.get("additionalPrinterColumns");
    if (columns == null) {
      return;
    }
    List<String> declared =
        Arrays.stream(MixedPrecisionJob.class.getAnnotationsByType(AdditionalPrinterColumn.class))
            .map(AdditionalPrinterColumn::name)
            .toList();
    List<JsonNode> sorted = new ArrayList<>();
    columns.forEach(sorted::add);
    sorted.sort(
        Comparator.comparingInt(
            (JsonNode c) -> {
              String name = c.get("name").asText();
              return name.equals("Age") ? Integer.MAX_VALUE : declared.indexOf(name);
            }));
    ArrayNode ordered = version.putArray("additionalPrinterColumns");
    sorted.forEach(ordered::add);
  }

  /** One condition per type: a list map, whose key must be required. */
  private static void conditionsAsMap(ObjectNode conditions) {
    conditions.put("x-kubernetes-list-type", "map");
    conditions.putArray("x-kubernetes-list-map-keys").add("type");
    ((ObjectNode) conditions.get("items")).putArray("required").add("type").add("status");
  }

  /** Every int-or-string of this schema is a resource quantity (CrdTest holds that). */
  private static void quantityPatterns(JsonNode node) {
    if (!(node instanceof ObjectNode object)) {
      return;
    }
    if (object.path("x-kubernetes-int-or-string").asBoolean(false)) {
      object.put("pattern", QUANTITY_PATTERN);
    }
    object.path("properties").forEach(CrdPolish::quantityPatterns);
    quantityPatterns(object.get("items"));
    quantityPatterns(object.get("additionalProperties"));
  }
}
