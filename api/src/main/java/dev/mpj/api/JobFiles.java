package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.SpecValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Reads and writes MixedPrecisionJob manifests. Reading is strict: an unknown field, an unknown
 * enum value or a value of the wrong type is an {@link InvalidJobException} naming the field, as
 * the API server's structural schema would refuse it.
 */
public final class JobFiles {

  private static final ObjectMapper YAML =
      new ObjectMapper(
              new YAMLFactory()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .findAndRegisterModules();

  private JobFiles() {}

  /** Parses and validates a job manifest; every problem is reported with its field. */
  public static MixedPrecisionJob read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new InvalidJobException("-f", "file not found: " + file);
    } catch (IOException e) {
      throw new InvalidJobException("-f", "cannot read " + file + ": " + e.getMessage());
    }
    MixedPrecisionJob job = parse(text);
    SpecValidator.requireValid(job);
    return job;
  }

  /**
   * Reads another MPJ file of the manifests' shape (the trainer's {@code --config}) as strictly as
   * a manifest: a field of the wrong type or name is an {@link InvalidJobException} naming that
   * field; a file that cannot be read names {@code option}.
   */
  public static <T> T read(Path file, Class<T> type, String option) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new InvalidJobException(option, "cannot read " + file + ": " + e.getMessage());
    }
    try {
      T value = YAML.readValue(text, type);
      if (value == null) {
        throw new InvalidJobException(option, file + " is empty");
      }
      return value;
    } catch (JsonMappingException e) {
      throw new InvalidJobException(path(e), reason(e));
    } catch (JsonProcessingException e) {
      throw new InvalidJobException(option, "not valid YAML: " + e.getOriginalMessage());
    }
  }

  /** Parses a manifest without the semantic checks of {@link SpecValidator}. */
  public static MixedPrecisionJob parse(String yaml) {
    JsonNode tree;
    try {
      tree = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new InvalidJobException("(document)", "not valid YAML: " + e.getOriginalMessage());
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      throw new InvalidJobException("(document)", "is empty");
    }
    // CustomResource fixes its kind and apiVersion from annotations, so check them on the document
    // itself.
    String apiVersion = tree.path("apiVersion").asText(null);
    String kind = tree.path("kind").asText(null);
    if (!Crd.API_VERSION.equals(apiVersion)) {
      throw new InvalidJobException(
          "apiVersion", "must be " + Crd.API_VERSION + " (got " + apiVersion + ")");
    }
    if (!Crd.KIND.equals(kind)) {
      throw new InvalidJobException("kind", "must be " + Crd.KIND + " (got " + kind + ")");
    }
    MixedPrecisionJob job;
    try {
      job = YAML.treeToValue(tree, MixedPrecisionJob.class);
    } catch (JsonMappingException e) {
      throw new InvalidJobException(path(e), reason(e));
    } catch (JsonProcessingException e) {
      throw new InvalidJobException("(document)", e.getOriginalMessage());
    }
    return job;
  }

  public static String toYaml(Object value) {
    try {
      return YAML.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  /** The mapper used for manifests, for callers that read other MPJ files of the same shape. */
  public static ObjectMapper yamlMapper() {
    return YAML;
  }

  private static String jsonName(Enum<?> constant) {
    try {
      JsonProperty name =
          constant.getDeclaringClass().getField(constant.name()).getAnnotation(JsonProperty.class);
      return name != null ? name.value() : constant.name();
    } catch (NoSuchFieldException e) {
      return constant.name();
    }
  }

  private static String path(JsonMappingException e) {
    String p =
        e.getPath().stream()
            .map(
                r ->
                    r.getFieldName() != null
                        ? "." + fieldName(r.getFieldName())
                        : "[" + r.getIndex() + "]")
            .collect(Collectors.joining());
    return p.isEmpty() ? "(document)" : p.substring(1);
  }

  /**
   * A field's name in a path; quoted when it is empty or has characters that would make the path
   * ambiguous (a fuzzed manifest's {@code "": 1} is field {@code ""}, not the document).
   */
  static String fieldName(String name) {
    return name.matches("[A-Za-z0-9_-]+") ? name : "\"" + name + "\"";
  }

  private static String reason(JsonMappingException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      return "unknown field \"" + u.getPropertyName() + "\"";
    }
    if (e instanceof InvalidFormatException f
        && f.getTargetType() != null
        && f.getTargetType().isEnum()) {
      String allowed =
          Arrays.stream(f.getTargetType().getEnumConstants())
              .map(constant -> jsonName((Enum<?>) constant))
              .collect(Collectors.joining(", "));
      return "unknown value \"" + f.getValue() + "\"; allowed: " + allowed;
    }
    if (e instanceof InvalidFormatException f) {
      return "cannot be \"" + f.getValue() + "\": expected " + f.getTargetType().getSimpleName();
    }
    return e.getOriginalMessage();
  }
}
