package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.operator.MockCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The test API server refuses what a real one refuses, with a 422 that says why. */
class ValidatingDispatcherTest {
  private final MockCluster cluster = MockCluster.start();

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aServiceWhoseNameStartsWithADigitIsRefusedAsARealApiServerWould() {
    var service =
        new ServiceBuilder()
            .withNewMetadata()
            .withName("1train-workers")
            .withNamespace(MockCluster.NS)
            .endMetadata()
            .withNewSpec()
            .withClusterIP("None")
            .endSpec()
            .build();
    assertThatThrownBy(() -> cluster.client.resource(service).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(422);
              assertThat(e.getStatus().getReason()).isEqualTo("Invalid");
              assertThat(e.getStatus().getMessage())
                  .startsWith(
                      "Service \"1train-workers\" is invalid: metadata.name: Invalid value:"
                          + " \"1train-workers\": a DNS-1035 label must consist of");
              assertThat(e.getStatus().getDetails().getCauses())
                  .singleElement()
                  .satisfies(c -> assertThat(c.getField()).isEqualTo("metadata.name"));
            });
    assertThat(cluster.client.services().inNamespace(MockCluster.NS).list().getItems()).isEmpty();
    service.getMetadata().setName("train-workers");
    assertThat(cluster.client.resource(service).create()).isNotNull();
  }

  @Test
  void aPodWithALongHostnameOrLabelValueIsRefusedNamingEachField() {
    String long64 = "a".repeat(64);
    var pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(long64 + "-worker-0")
            .withNamespace(MockCluster.NS)
            .withLabels(Map.of("mpj.dev/job-name", long64))
            .endMetadata()
            .withNewSpec()
            .withHostname(long64 + "-worker-0")
            .withSubdomain("workers")
            .addNewContainer()
            .withName("trainer")
            .withImage("x")
            .endContainer()
            .endSpec()
            .build();
    assertThatThrownBy(() -> cluster.client.resource(pod).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e -> {
              assertThat(e.getCode()).isEqualTo(422);
              assertThat(e.getStatus().getDetails().getCauses())
                  .extracting(c -> c.getField())
                  .containsExactly("metadata.labels", "spec.hostname");
              assertThat(e.getStatus().getMessage())
                  .contains(
                      "metadata.labels: Invalid value: \""
                          + long64
                          + "\": must be no more than 63 characters");
            });
    assertThat(cluster.client.pods().inNamespace(MockCluster.NS).list().getItems()).isEmpty();
  }

  @Test
  void annotationsOverTheirSizeLimitAreRefusedAndSoIsAReplaceThatAddsThem() {
    var config =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName("v1.2-config")
            .withNamespace(MockCluster.NS)
            .endMetadata()
            .build();
    var created = cluster.client.resource(config).create();
    created.getMetadata().setAnnotations(Map.of("big", "x".repeat(256 * 1024)));
    assertThatThrownBy(() -> cluster.client.resource(created).update())
        .isInstanceOfSatisfying(
            KubernetesClientException.class,
            e ->
                assertThat(e.getStatus().getMessage())
                    .isEqualTo(
                        "ConfigMap \"v1.2-config\" is invalid: metadata.annotations: Too long:"
                            + " must have at most 262144 bytes"));
    assertThat(
            cluster
                .client
                .configMaps()
                .inNamespace(MockCluster.NS)
                .withName("v1.2-config")
                .get()
                .getMetadata()
                .getAnnotations())
        .isNullOrEmpty();
  }
}
