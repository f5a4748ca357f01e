package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrdTest {

  @Test
  void committedCrdIsTheGeneratedOne() throws IOException {
    assertThat(TestManifests.GENERATED_CRD).exists();
    assertThat(Files.readString(TestManifests.COMMITTED_CRD))
        .as(
            "crds/%s is stale: the API types changed. Regenerate it with"
                + " `mvn -B -q -pl api package -DskipTests && cp api/target/classes/META-INF/fabric8/%s crds/`",
            Crd.FILE_NAME, Crd.FILE_NAME)
        .isEqualTo(Files.readString(TestManifests.GENERATED_CRD));
  }

  @Test
  void declaresNamesStatusSubresourceAndPrinterColumns() throws IOException {
    CustomResourceDefinition crd = committedCrd();
    assertThat(crd.getMetadata().getName()).isEqualTo("mixedprecisionjobs.mpj.dev");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("mpj");
    assertThat(crd.getSpec().getNames().getCategories()).containsExactly("all", "mpj");
    CustomResourceDefinitionVersion v1alpha1 = crd.getSpec().getVersions().get(0);
    assertThat(v1alpha1.getName()).isEqualTo("v1alpha1");
    assertThat(v1alpha1.getSubresources().getStatus()).isNotNull();
    // In the declared order, Age last as kubectl's own columns have it (the generator sorts them
    // by path; CrdPolish puts them back).
    assertThat(v1alpha1.getAdditionalPrinterColumns())
        .extracting(c -> c.getName())
        .containsExactly(
            "Phase", "Precision", "Replicas", "Step", "Loss", "Loss Scale", "Restarts", "Age");
  }

  @Test
  void conditionsAreAListMapKeyedByType() throws IOException {
    JSONSchemaProps conditions =
        committedCrd()
            .getSpec()
            .getVersions()
            .get(0)
            .getSchema()
            .getOpenAPIV3Schema()
            .getProperties()
            .get("status")
            .getProperties()
            .get("conditions");
    assertThat(conditions.getXKubernetesListType()).isEqualTo("map");
    assertThat(conditions.getXKubernetesListMapKeys()).containsExactly("type");
    // The API server refuses a list map whose key is neither required nor defaulted.
    assertThat(conditions.getItems().getSchema().getRequired()).contains("type");
  }

  @Test
  void specAndStatusAreDescribed() throws IOException {
    var properties =
        committedCrd()
            .getSpec()
            .getVersions()
            .get(0)
            .getSchema()
            .getOpenAPIV3Schema()
            .getProperties();
    assertThat(properties.get("spec").getDescription()).contains("What to train");
    assertThat(properties.get("status").getDescription()).contains("written by the operator");
  }

  @Test
  void everyQuantityCarriesTheApiServersPattern() throws IOException {
    JSONSchemaProps root =
        committedCrd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    List<String> quantities = new java.util.ArrayList<>();
    intOrStrings("", root, quantities);
    assertThat(quantities)
        .contains(
            ".spec.resources.gpuMemory",
            ".spec.resources.cpu",
            ".spec.resources.memory",
            ".spec.checkpoint.volume.size",
            ".spec.template.resources{}");
    CrdSchema schema = CrdSchema.ofCommittedCrd();
    String job = TestManifests.VALID_JOB + "  resources: {gpuMemory: %s, cpu: %s}\n";
    assertThat(schema.validate(job.formatted("16Gi", "500m"))).isEmpty();
    assertThat(schema.validate(job.formatted("16Gi", "4"))).isEmpty();
    assertThat(schema.validate(job.formatted("\"16 GB\"", "4")))
        .anySatisfy(e -> assertThat(e).contains("gpuMemory"));
    assertThat(schema.validate(job.formatted("16Gi", "four")))
        .anySatisfy(e -> assertThat(e).contains("cpu"));
  }

  /** Paths of the int-or-string nodes, each of which must carry the quantity pattern. */
  private static void intOrStrings(String path, JSONSchemaProps props, List<String> found) {
    if (props == null) {
      return;
    }
    if (Boolean.TRUE.equals(props.getXKubernetesIntOrString())) {
      assertThat(props.getPattern())
          .as("pattern of %s", path)
          .isEqualTo(CrdPolish.QUANTITY_PATTERN);
      found.add(path);
    }
    if (props.getProperties() != null) {
      props.getProperties().forEach((name, child) -> intOrStrings(path + "." + name, child, found));
    }
    if (props.getItems() != null) {
      intOrStrings(path + "[]", props.getItems().getSchema(), found);
    }
    if (props.getAdditionalProperties() != null) {
      intOrStrings(path + "{}", props.getAdditionalProperties().getSchema(), found);
    }
  }

  @Test
  void everySpecAndStatusFieldIsDescribed() throws IOException {
    JSONSchemaProps root =
        committedCrd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
    assertDescribed("spec", root.getProperties().get("spec"));
    assertDescribed("status", root.getProperties().get("status"));
  }

  @Test
  void immutableFieldsAndCrossFieldRulesAreCelRules() throws IOException {
    JSONSchemaProps spec =
        committedCrd()
            .getSpec()
            .getVersions()
            .get(0)
            .getSchema()
            .getOpenAPIV3Schema()
            .getProperties()
            .get("spec");
    assertThat(rules(spec.getProperties().get("precision"))).contains("self == oldSelf");
    assertThat(rules(spec.getProperties().get("model"))).contains("self == oldSelf");
    assertThat(rules(spec.getProperties().get("replicas"))).contains("self.min <= self.max");
    assertThat(spec.getProperties().get("precision").getEnum())
        .extracting(Object::toString)
        .containsExactlyInAnyOrder("\"fp32\"", "\"fp16-mixed\"", "\"bf16-mixed\"");
  }

  private static List<String> rules(JSONSchemaProps props) {
    return props.getXKubernetesValidations().stream().map(ValidationRule::getRule).toList();
  }

  private static void assertDescribed(String path, JSONSchemaProps props) {
    if (props.getProperties() == null) {
      return;
    }
    props
        .getProperties()
        .forEach(
            (name, child) -> {
              String childPath = path + "." + name;
              assertThat(child.getDescription()).as("description of %s", childPath).isNotBlank();
              // Types that come from Kubernetes itself carry their own documentation.
              if (TestManifests.KUBERNETES_TYPES.contains(name)) {
                return;
              }
              assertDescribed(childPath, child);
              if (child.getItems() != null && child.getItems().getSchema() != null) {
                assertDescribed(childPath + "[]", child.getItems().getSchema());
              }
            });
  }

  static CustomResourceDefinition committedCrd() throws IOException {
    return Serialization.unmarshal(
        Files.readString(TestManifests.COMMITTED_CRD), CustomResourceDefinition.class);
  }
}
