package dev.mpj.chart;

import static dev.mpj.chart.HelmChart.render;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mpj.api.Crd;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.junit.jupiter.api.Test;

/**
 * The chart installs the CRD of crds/, unchanged, only when crds.install is true, and keeps it on
 * uninstall.
 */
class ChartCrdTest {
  private static final Path COMMITTED = RepoTools.repoRoot().resolve("crds").resolve(Crd.FILE_NAME);
  private static final Path CHART_COPY =
      HelmChart.chartDir().resolve("files").resolve(Crd.FILE_NAME);

  @Test
  void theChartsCopyIsTheCommittedCrd() throws IOException {
    assertThat(Files.readString(CHART_COPY))
        .as(
            "charts/mpj-operator/files/%s differs from crds/; copy it: cp crds/%s charts/mpj-operator/files/",
            Crd.FILE_NAME, Crd.FILE_NAME)
        .isEqualTo(Files.readString(COMMITTED));
  }

  @Test
  void theRenderedCrdIsTheCommittedOneWithTheKeepPolicy() throws IOException {
    CustomResourceDefinition rendered = render().one(CustomResourceDefinition.class);
    assertThat(rendered.getMetadata().getName()).isEqualTo(Crd.NAME);
    assertThat(rendered.getMetadata().getAnnotations())
        .containsEntry("helm.sh/resource-policy", "keep");

    JsonNode committed = new YAMLMapper().readTree(COMMITTED.toFile());
    JsonNode renderedTree =
        new YAMLMapper().readTree(new KubernetesSerialization().asYaml(rendered));
    ((ObjectNode) committed).remove("metadata");
    ((ObjectNode) renderedTree).remove("metadata");
    // helm writes 1.0 as 1: compare numbers by value.
    Comparator<JsonNode> numbersByValue =
        (a, b) ->
            a.isNumber() && b.isNumber()
                ? a.decimalValue().compareTo(b.decimalValue())
                : (a.equals(b) ? 0 : 1);
    assertThat(renderedTree.equals(numbersByValue, committed))
        .as("the rendered CRD's spec equals crds/%s", Crd.FILE_NAME)
        .isTrue();
  }

  @Test
  void crdsInstallFalseLeavesTheCrdOut() {
    assertThat(render("--set", "crds.install=false").all(CustomResourceDefinition.class)).isEmpty();
  }
}
