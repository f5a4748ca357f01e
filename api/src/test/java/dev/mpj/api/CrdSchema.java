package dev.mpj.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/**
 * The CRD's OpenAPI v3 schema as a JSON-schema validator, the way `kubectl apply --validate=strict`
 * sees a manifest: unknown fields are errors wherever the schema lists the properties.
 */
final class CrdSchema {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final YAMLMapper YAML = new YAMLMapper();

  private final Schema schema;

  private CrdSchema(Schema schema) {
    this.schema = schema;
  }

  static CrdSchema ofCommittedCrd() throws IOException {
    JsonNode crd = YAML.readTree(Files.readString(TestManifests.COMMITTED_CRD));
    JsonNode openApi = crd.at("/spec/versions/0/schema/openAPIV3Schema").deepCopy();
    forbidUnknownFields(openApi);
    ObjectNode root = (ObjectNode) openApi;
    // The API server fills these in for every object; the schema leaves them out.
    ObjectNode props = (ObjectNode) root.get("properties");
    props.putObject("apiVersion").put("type", "string");
    props.putObject("kind").put("type", "string");
    props.putObject("metadata").put("type", "object");
    Schema schema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
            .getSchema(JSON.writeValueAsString(root), InputFormat.JSON);
    return new CrdSchema(schema);
  }

  /** Every error, as "path: message". */
  List<String> validate(String manifestYaml) throws IOException {
    String json = JSON.writeValueAsString(YAML.readTree(manifestYaml));
    return schema.validate(json, InputFormat.JSON).stream().map(Error::toString).toList();
  }

  private static void forbidUnknownFields(JsonNode node) {
    if (node instanceof ObjectNode object) {
      boolean preserves = object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
      if (object.has("properties") && !object.has("additionalProperties") && !preserves) {
        object.put("additionalProperties", false);
      }
    }
    node.forEach(CrdSchema::forbidUnknownFields);
  }
}
