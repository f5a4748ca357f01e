package dev.mpj.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.api.config.BaseConfigurationService;
import io.javaoperatorsdk.operator.api.config.ConfigurationService;
import org.junit.jupiter.api.Test;

/**
 * The production operator uses what JOSDK recommends; only an API server without SSA turns it off.
 */
class MpjOperatorConfigurationTest {

  private static ConfigurationService configured(OperatorSettings settings) {
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      return ConfigurationService.newOverriddenConfigurationService(
          new BaseConfigurationService(), MpjOperator.configuration(client, settings));
    }
  }

  @Test
  void productionPatchesAndMatchesWithServerSideApply() {
    assertThat(OperatorSettings.defaults().serverSideApply()).isTrue();
    ConfigurationService production = configured(OperatorSettings.defaults());
    assertThat(production.useSSAToPatchPrimaryResource()).isTrue();
    assertThat(production.ssaBasedCreateUpdateMatchForDependentResources()).isTrue();
  }

  @Test
  void withoutServerSideApplyBothAreOff() {
    ConfigurationService local = configured(OperatorSettings.defaults().withServerSideApply(false));
    assertThat(local.useSSAToPatchPrimaryResource()).isFalse();
    assertThat(local.ssaBasedCreateUpdateMatchForDependentResources()).isFalse();
  }
}
