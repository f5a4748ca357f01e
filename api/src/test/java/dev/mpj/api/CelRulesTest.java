package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Evaluates the CRD's x-kubernetes-validations rules with CEL, as the API server does on create
 * (rules without oldSelf) and on update (all rules), against real manifests.
 */
class CelRulesTest {

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  /** A rule and the JSON pointer of the field it sits on. */
  record Rule(String pointer, String expression, String message) {}

  private static final List<Rule> RULES = new ArrayList<>();

  @BeforeAll
  static void collectRules() throws Exception {
    JSONSchemaProps spec =
        CrdTest.committedCrd()
            .getSpec()
            .getVersions()
            .get(0)
            .getSchema()
            .getOpenAPIV3Schema()
            .getProperties()
            .get("spec");
    collect("/spec", spec);
    assertThat(RULES).isNotEmpty();
  }

  @Test
  void examplesPassEveryCreateRule() throws Exception {
    for (Path example : TestManifests.examples()) {
      assertThat(failures(YAML.readTree(Files.readString(example)), null))
          .as(example.toString())
          .isEmpty();
    }
  }

  @Test
  void replicasMinAboveMaxIsRefused() throws Exception {
    JsonNode job = YAML.readTree(TestManifests.VALID_JOB + "  replicas: {min: 4, max: 2}\n");
    assertThat(failures(job, null)).containsExactly("replicas.min must not exceed replicas.max");
  }

  @Test
  void csvSequenceDataIsRefused() throws Exception {
    JsonNode job =
        YAML.readTree(
            TestManifests.VALID_JOB.replace(
                "source: synthetic\n    synthetic: {task: classification, samples: 1024,"
                    + " features: 16, classes: 4}",
                "source: csv\n    csv: {path: /data/train.csv, task: sequence}"));
    assertThat(job.at("/spec/data/csv/task").asText()).isEqualTo("sequence");
    assertThat(failures(job, null))
        .containsExactly(
            "data.csv.task must be classification or regression; token sequences come in an npz");
  }

  @Test
  void checkpointVolumeWithBothSizeAndClaimIsRefused() throws Exception {
    JsonNode job =
        YAML.readTree(
            TestManifests.VALID_JOB + "  checkpoint: {volume: {size: 1Gi, claimName: mine}}\n");
    assertThat(failures(job, null))
        .containsExactly(
            "set exactly one of checkpoint.volume.size and checkpoint.volume.claimName");
  }

  @Test
  void precisionAndModelAreImmutableOnUpdate() throws Exception {
    JsonNode old = YAML.readTree(TestManifests.VALID_JOB);
    JsonNode changed =
        YAML.readTree(
            TestManifests.VALID_JOB
                .replace("precision: fp16-mixed", "precision: fp32")
                .replace("hiddenSizes: [64, 64]", "hiddenSizes: [64]"));
    assertThat(failures(changed, old))
        .containsExactlyInAnyOrder("precision is immutable", "model is immutable");
    JsonNode bigger = YAML.readTree(TestManifests.VALID_JOB.replace("steps: 10", "steps: 20"));
    assertThat(failures(bigger, old)).isEmpty();
  }

  private static List<String> failures(JsonNode object, JsonNode oldObject) throws Exception {
    List<String> failed = new ArrayList<>();
    for (Rule rule : RULES) {
      JsonNode self = object.at(rule.pointer());
      if (self.isMissingNode()) {
        continue;
      }
      boolean transition = rule.expression().contains("oldSelf");
      Map<String, Object> vars = new LinkedHashMap<>();
      vars.put("self", toCel(self));
      if (transition) {
        JsonNode old = oldObject == null ? null : oldObject.at(rule.pointer());
        if (old == null || old.isMissingNode()) {
          continue;
        }
        vars.put("oldSelf", toCel(old));
      }
      CelRuntime.Program program =
          RUNTIME.createProgram(COMPILER.compile(rule.expression()).getAst());
      if (!Boolean.TRUE.equals(program.eval(vars))) {
        failed.add(rule.message());
      }
    }
    return failed;
  }

  private static void collect(String pointer, JSONSchemaProps props) {
    if (props.getXKubernetesValidations() != null) {
      for (ValidationRule r : props.getXKubernetesValidations()) {
        RULES.add(new Rule(pointer, r.getRule(), r.getMessage()));
      }
    }
    if (props.getProperties() != null) {
      props.getProperties().forEach((name, child) -> collect(pointer + "/" + name, child));
    }
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
