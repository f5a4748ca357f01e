package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Evaluates the CRD's x-kubernetes-validations rules with CEL, as the API server does on create
 * (rules without oldSelf) and on update (all rules), against real manifests: after the schema's
 * defaults are filled in, as the API server fills them before it validates.
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
  private static JSONSchemaProps schema;

  /**
   * For each create rule, how to break VALID_JOB for it; a rule without one here fails {@link
   * #everyRuleRefusesWhatItShouldAndOnlyThat()}.
   */
  private static final Map<String, UnaryOperator<String>> BREAKING =
      Map.of(
          "replicas.min must not exceed replicas.max",
          job -> job + "  replicas: {min: 4, max: 2}\n",
          "set exactly one of checkpoint.volume.size and checkpoint.volume.claimName",
          job -> job + "  checkpoint: {volume: {size: 1Gi, claimName: mine}}\n",
          "bf16-mixed is not supported: the DJL PyTorch engine has no BF16 arrays; use fp16-mixed",
          job -> job.replace("precision: fp16-mixed", "precision: bf16-mixed"),
          "data.csv.task must be classification or regression; token sequences come in an npz",
          job ->
              job.replace(
                  "source: synthetic\n    synthetic: {task: classification, samples: 1024,"
                      + " features: 16, classes: 4}",
                  "source: csv\n    csv: {path: /data/train.csv, task: sequence}"));

  /** Update rules (oldSelf): the change to VALID_JOB that breaks each. */
  private static final Map<String, String[]> BREAKING_ON_UPDATE =
      Map.of(
          "precision is immutable", new String[] {"precision: fp16-mixed", "precision: fp32"},
          "model is immutable", new String[] {"hiddenSizes: [64, 64]", "hiddenSizes: [64]"});

  @BeforeAll
  static void collectRules() throws Exception {
    schema = CrdTest.committedCrd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    collect("/spec", schema.getProperties().get("spec"));
    assertThat(RULES).isNotEmpty();
  }

  @Test
  void everyRuleRefusesWhatItShouldAndOnlyThat() throws Exception {
    for (Rule rule : RULES) {
      if (rule.expression().contains("oldSelf")) {
        String[] change = BREAKING_ON_UPDATE.get(rule.message());
        assertThat(change).as("no breaking update for rule %s", rule).isNotNull();
        JsonNode old = YAML.readTree(TestManifests.VALID_JOB);
        JsonNode changed = YAML.readTree(TestManifests.VALID_JOB.replace(change[0], change[1]));
        assertThat(failures(changed, old)).as(rule.toString()).containsExactly(rule.message());
        assertThat(failures(old, old)).as(rule.toString()).isEmpty();
      } else {
        UnaryOperator<String> breaking = BREAKING.get(rule.message());
        assertThat(breaking).as("no breaking object for rule %s", rule).isNotNull();
        JsonNode job = YAML.readTree(breaking.apply(TestManifests.VALID_JOB));
        assertThat(failures(job, null)).as(rule.toString()).containsExactly(rule.message());
      }
    }
    assertThat(failures(YAML.readTree(TestManifests.VALID_JOB), null)).isEmpty();
  }

  @Test
  void anOmittedReplicaBoundTakesItsDefault() throws Exception {
    assertThat(failures(YAML.readTree(TestManifests.VALID_JOB + "  replicas: {max: 4}\n"), null))
        .isEmpty();
    assertThat(failures(YAML.readTree(TestManifests.VALID_JOB + "  replicas: {min: 1}\n"), null))
        .isEmpty();
    assertThat(failures(YAML.readTree(TestManifests.VALID_JOB + "  replicas: {}\n"), null))
        .isEmpty();
    assertThat(failures(YAML.readTree(TestManifests.VALID_JOB + "  replicas: {min: 4}\n"), null))
        .as("max defaults to 1")
        .containsExactly("replicas.min must not exceed replicas.max");
  }

  @Test
  void theCheckpointVolumeNeedsOneOfSizeAndClaim() throws Exception {
    assertThat(
            failures(
                YAML.readTree(TestManifests.VALID_JOB + "  checkpoint: {volume: {size: 1Gi}}\n"),
                null))
        .isEmpty();
    assertThat(
            failures(
                YAML.readTree(
                    TestManifests.VALID_JOB + "  checkpoint: {volume: {claimName: mine}}\n"),
                null))
        .isEmpty();
    assertThat(
            failures(
                YAML.readTree(
                    TestManifests.VALID_JOB + "  checkpoint: {volume: {storageClassName: fast}}\n"),
                null))
        .containsExactly(
            "set exactly one of checkpoint.volume.size and checkpoint.volume.claimName");
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

  private static List<String> failures(JsonNode given, JsonNode givenOld) throws Exception {
    JsonNode object = withDefaults(given.deepCopy(), schema);
    JsonNode oldObject = givenOld == null ? null : withDefaults(givenOld.deepCopy(), schema);
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

  /**
   * Fills in the schema's defaults where a field is absent from an object that is present, as the
   * API server does on every request before validation.
   */
  private static JsonNode withDefaults(JsonNode node, JSONSchemaProps props) {
    if (node instanceof ObjectNode object && props.getProperties() != null) {
      props
          .getProperties()
          .forEach(
              (name, child) -> {
                if (!object.has(name) && child.getDefault() != null) {
                  object.set(name, child.getDefault().deepCopy());
                }
                if (object.has(name)) {
                  withDefaults(object.get(name), child);
                }
              });
    } else if (node.isArray() && props.getItems() != null && props.getItems().getSchema() != null) {
      node.forEach(item -> withDefaults(item, props.getItems().getSchema()));
    }
    return node;
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
