package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the API server checks on a custom resource before storing it: its CRD's OpenAPI v3 schema
 * (types, enums, bounds, required fields; unknown fields refused as {@code --validate=strict} does)
 * and its {@code x-kubernetes-validations} CEL rules (transition rules, those with {@code oldSelf},
 * only on update). Errors read as the API server's field errors.
 */
final class CrdAdmission {
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  /** A CEL rule, the JSON pointer and schema type of the field it sits on. */
  record Rule(
      String pointer,
      String type,
      CelRuntime.Program program,
      boolean transition,
      String message) {}

  /** One field's problem; {@code unknownField} marks a field the schema does not declare. */
  record Problem(String field, String message, boolean unknownField) {
    @Override
    public String toString() {
      return field + ": " + message;
    }
  }

  private final Schema schema;
  private final List<Rule> rules = new ArrayList<>();

  CrdAdmission(CustomResourceDefinition crd) {
    JSONSchemaProps openApi = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    ObjectNode root = (ObjectNode) ApiJson.JSON.valueToTree(openApi);
    forbidUnknownFields(root);
    ObjectNode props = (ObjectNode) root.get("properties");
    // The API server fills these in for every object; the schema leaves them out.
    props.putObject("apiVersion").put("type", "string");
    props.putObject("kind").put("type", "string");
    props.putObject("metadata").put("type", "object");
    this.schema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
            .getSchema(ApiJson.write(root), InputFormat.JSON);
    collect("", openApi);
  }

  /** Every problem of the object; {@code old} is the stored object on update, else null. */
  List<Problem> problems(JsonNode object, JsonNode old) {
    List<Problem> problems = new ArrayList<>();
    for (Error e : schema.validate(ApiJson.write(object), InputFormat.JSON)) {
      problems.add(problem(e));
    }
    if (!problems.isEmpty()) {
      return problems;
    }
    for (Rule rule : rules) {
      JsonNode self = object.at(rule.pointer());
      if (self.isMissingNode()) {
        continue;
      }
      Map<String, Object> vars = new LinkedHashMap<>();
      vars.put("self", toCel(self));
      if (rule.transition()) {
        JsonNode before = old == null ? null : old.at(rule.pointer());
        if (before == null || before.isMissingNode()) {
          continue;
        }
        vars.put("oldSelf", toCel(before));
      }
      Object result;
      try {
        result = rule.program().eval(vars);
      } catch (Exception e) {
        result = e;
      }
      if (!Boolean.TRUE.equals(result)) {
        String field = rule.pointer().substring(1).replace('/', '.');
        problems.add(
            new Problem(field, "Invalid value: \"" + rule.type() + "\": " + rule.message(), false));
      }
    }
    return problems;
  }

  private static Problem problem(Error e) {
    String field = field(e.getInstanceLocation().toString());
    JsonNode value = e.getInstanceNode();
    String shown = value == null ? "null" : value.toString();
    Object[] args = e.getArguments() == null ? new Object[0] : e.getArguments();
    String keyword = e.getKeyword() == null ? "" : e.getKeyword();
    switch (keyword) {
      case "additionalProperties":
        String name = e.getProperty() != null ? e.getProperty() : String.valueOf(args[0]);
        return new Problem(
            field.isEmpty() ? name : field + "." + name, "field not declared in schema", true);
      case "required":
        String missing = e.getProperty() != null ? e.getProperty() : String.valueOf(args[0]);
        return new Problem(
            field.isEmpty() ? missing : field + "." + missing, "Required value", false);
      case "enum":
        JsonNode allowed = e.getSchemaNode();
        List<String> values = new ArrayList<>();
        if (allowed != null) {
          allowed.forEach(v -> values.add(v.toString()));
        }
        return new Problem(
            field,
            "Unsupported value: " + shown + ": supported values: " + String.join(", ", values),
            false);
      case "minimum":
        return new Problem(
            field,
            "Invalid value: "
                + shown
                + ": "
                + field
                + " in body should be greater than or equal to "
                + number(e.getSchemaNode()),
            false);
      case "maximum":
        return new Problem(
            field,
            "Invalid value: "
                + shown
                + ": "
                + field
                + " in body should be less than or equal to "
                + number(e.getSchemaNode()),
            false);
      case "type":
        String expected = e.getSchemaNode() == null ? "" : e.getSchemaNode().asText();
        return new Problem(
            field,
            "Invalid value: \""
                + jsonType(value)
                + "\": "
                + field
                + " in body must be of type "
                + expected
                + ": \""
                + jsonType(value)
                + "\"",
            false);
      default:
        return new Problem(field, "Invalid value: " + shown + ": " + e.getMessage(), false);
    }
  }

  private static String number(JsonNode n) {
    if (n == null) {
      return "";
    }
    double d = n.asDouble();
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static String jsonType(JsonNode v) {
    if (v == null || v.isNull()) {
      return "null";
    }
    if (v.isTextual()) {
      return "string";
    }
    if (v.isIntegralNumber()) {
      return "integer";
    }
    if (v.isNumber()) {
      return "number";
    }
    if (v.isBoolean()) {
      return "boolean";
    }
    return v.isArray() ? "array" : "object";
  }

  /**
   * A JSON pointer ({@code /spec/a/0/b}) or path ({@code $.spec.a[0].b}) as the API server writes a
   * field: {@code spec.a[0].b}.
   */
  static String field(String location) {
    String f = location.startsWith("$") ? location.substring(1) : location;
    if (f.startsWith("/")) {
      StringBuilder out = new StringBuilder();
      for (String part : f.substring(1).split("/")) {
        String name = part.replace("~1", "/").replace("~0", "~");
        if (name.matches("\\d+")) {
          out.append('[').append(name).append(']');
        } else {
          out.append(out.length() == 0 ? "" : ".").append(name);
        }
      }
      return out.toString();
    }
    return f.startsWith(".") ? f.substring(1) : f;
  }

  private void collect(String pointer, JSONSchemaProps props) {
    if (props.getXKubernetesValidations() != null) {
      for (ValidationRule r : props.getXKubernetesValidations()) {
        try {
          CelRuntime.Program program =
              RUNTIME.createProgram(COMPILER.compile(r.getRule()).getAst());
          String type = props.getType() == null ? "object" : props.getType();
          rules.add(
              new Rule(pointer, type, program, r.getRule().contains("oldSelf"), r.getMessage()));
        } catch (Exception e) {
          throw new IllegalStateException(
              "the CRD's rule at " + pointer + " does not compile: " + r.getRule(), e);
        }
      }
    }
    if (props.getProperties() != null) {
      props.getProperties().forEach((name, child) -> collect(pointer + "/" + name, child));
    }
  }

  private static void forbidUnknownFields(JsonNode node) {
    if (node instanceof ObjectNode object) {
      boolean preserves = object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
      if (object.has("properties") && !object.has("additionalProperties") && !preserves) {
        object.put("additionalProperties", false);
      }
    }
    node.forEach(CrdAdmission::forbidUnknownFields);
  }

  /** JSON as CEL sees it: maps, lists, int64, double, string, bool. */
  private static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> map.put(e.getKey(), toCel(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(toCel(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
