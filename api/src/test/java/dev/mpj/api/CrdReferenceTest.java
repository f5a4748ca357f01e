package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docs/reference/crd.md is rendered from the committed CRD, so it describes every field and never
 * drifts. To regenerate it: {@code mvn -B -q -pl api test -Dtest=CrdReferenceTest
 * -Dmpj.regenerate=true}.
 */
class CrdReferenceTest {

  @Test
  void referenceDocDescribesTheCommittedCrd() throws IOException {
    String rendered =
        render(
            CrdTest.committedCrd().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema());
    if (Boolean.getBoolean("mpj.regenerate")) {
      Files.createDirectories(TestManifests.CRD_REFERENCE.getParent());
      Files.writeString(TestManifests.CRD_REFERENCE, rendered);
    }
    assertThat(TestManifests.CRD_REFERENCE).exists();
    assertThat(Files.readString(TestManifests.CRD_REFERENCE))
        .as(
            "docs/reference/crd.md is stale; regenerate it: mvn -B -q -pl api test -Dtest=CrdReferenceTest -Dmpj.regenerate=true")
        .isEqualTo(rendered);
  }

  static String render(JSONSchemaProps root) {
    StringBuilder out = new StringBuilder();
    out.append("# MixedPrecisionJob reference (`mpj.dev/v1alpha1`)\n\n")
        .append("Generated from `crds/")
        .append(Crd.FILE_NAME)
        .append("` by `CrdReferenceTest`; do not edit by hand.\n")
        .append(
            "Short name `mpj`; namespaced; status subresource. `kubectl explain mixedprecisionjob.spec` shows the same text.\n\n")
        .append("## metadata.name\n\n")
        .append(
            "A DNS-1123 subdomain, as for every custom resource: at most 253 lowercase letters,"
                + " digits, `-` and `.`, starting and ending with a letter or digit. Any such name"
                + " works: the names of the pods (DNS-1123 labels, 63 characters), the Service"
                + " (a DNS-1035 label: 63 characters, starting with a letter), the ConfigMap, Secret"
                + " and claim, and the label values (63 characters) are cut to fit with a hash of"
                + " the full name where needed, and the full name is kept in the annotation"
                + " `mpj.dev/job-name` on each of them"
                + " ([names](../concepts/lifecycle.md#names-whatever-the-job-is-called)).\n\n");
    for (String section : new String[] {"spec", "status"}) {
      out.append("## ")
          .append(section)
          .append("\n\n")
          .append("| field | type | constraints | description |\n|---|---|---|---|\n");
      rows(out, section, root.getProperties().get(section), true);
      out.append("\n");
    }
    return out.toString();
  }

  private static void rows(StringBuilder out, String path, JSONSchemaProps props, boolean top) {
    if (!top) {
      out.append("| `")
          .append(path)
          .append("` | ")
          .append(type(props))
          .append(" | ")
          .append(constraints(props))
          .append(" | ")
          .append(cell(props.getDescription()))
          .append(" |\n");
    }
    String name = path.substring(path.lastIndexOf('.') + 1).replace("[]", "");
    if (TestManifests.KUBERNETES_TYPES.contains(name)) {
      return;
    }
    if (props.getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e : props.getProperties().entrySet()) {
        rows(out, path + "." + e.getKey(), e.getValue(), false);
      }
    }
    if (props.getItems() != null
        && props.getItems().getSchema() != null
        && props.getItems().getSchema().getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e :
          props.getItems().getSchema().getProperties().entrySet()) {
        rows(out, path + "[]." + e.getKey(), e.getValue(), false);
      }
    }
  }

  private static String type(JSONSchemaProps p) {
    if (Boolean.TRUE.equals(p.getXKubernetesIntOrString())) {
      return "quantity";
    }
    if ("array".equals(p.getType()) && p.getItems() != null && p.getItems().getSchema() != null) {
      return type(p.getItems().getSchema()) + "[]";
    }
    if ("object".equals(p.getType())
        && p.getAdditionalProperties() != null
        && p.getAdditionalProperties().getSchema() != null) {
      return "map of " + type(p.getAdditionalProperties().getSchema());
    }
    return p.getType() == null ? "" : p.getType();
  }

  private static String constraints(JSONSchemaProps p) {
    StringBuilder c = new StringBuilder();
    if (p.getEnum() != null && !p.getEnum().isEmpty()) {
      c.append("one of ")
          .append(
              p.getEnum().stream()
                  .map(v -> "`" + v.asText() + "`")
                  .collect(Collectors.joining(", ")));
    }
    if (p.getMinimum() != null) {
      c.append(c.length() > 0 ? "; " : "").append("≥ ").append(number(p.getMinimum()));
    }
    if (p.getMaximum() != null) {
      c.append(c.length() > 0 ? "; " : "").append("≤ ").append(number(p.getMaximum()));
    }
    if (p.getRequired() != null && !p.getRequired().isEmpty()) {
      c.append(c.length() > 0 ? "; " : "")
          .append("requires ")
          .append(
              p.getRequired().stream().map(r -> "`" + r + "`").collect(Collectors.joining(", ")));
    }
    if (p.getXKubernetesValidations() != null) {
      for (ValidationRule rule : p.getXKubernetesValidations()) {
        c.append(c.length() > 0 ? "; " : "")
            .append("rule `")
            .append(rule.getRule().replace("|", "\\|"))
            .append("`");
      }
    }
    return c.toString();
  }

  private static String number(Double d) {
    return d == Math.rint(d) ? String.valueOf(d.longValue()) : String.valueOf(d);
  }

  private static String cell(String text) {
    return text == null ? "" : text.replace("|", "\\|").replace("\n", " ");
  }
}
