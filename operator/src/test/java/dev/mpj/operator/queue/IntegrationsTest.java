package dev.mpj.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.operator.MockCluster;
import dev.mpj.operator.queue.Integrations.Mode;
import dev.mpj.operator.queue.Integrations.Switches;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The chart's switches against discovery on the mock API server: auto follows the CRDs found,
 * disabled turns an installed one off, enabled refuses to start without it; one line says which are
 * active.
 */
class IntegrationsTest {
  private final MockCluster cluster = MockCluster.start();

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void autoIsOffWithoutTheCrds() {
    Integrations found = Integrations.detect(cluster.client, Switches.AUTO);
    assertThat(found).isEqualTo(Integrations.NONE);
    assertThat(found.describe(Switches.AUTO))
        .isEqualTo(
            "integrations: Kueue not found (no kueue.x-k8s.io/v1beta2 Workloads served; the queue"
                + " label is only passed to the pods); Volcano PodGroups not found; coscheduling"
                + " PodGroups not found");
  }

  @Test
  void autoFollowsTheCrdsAndDisabledTurnsAnInstalledOneOff() {
    cluster.installCrd("/kueue/workloads.kueue.x-k8s.io.yaml");
    cluster.installCrd("/gang/podgroups.scheduling.volcano.sh.yaml");
    cluster.installCrd("/gang/podgroups.scheduling.x-k8s.io.yaml");
    assertThat(Integrations.detect(cluster.client, Switches.AUTO))
        .isEqualTo(new Integrations(true, true, true));

    Switches switches = new Switches(Mode.AUTO, Mode.DISABLED, Mode.ENABLED);
    Integrations found = Integrations.detect(cluster.client, switches);
    assertThat(found).isEqualTo(new Integrations(true, false, true));
    assertThat(found.describe(switches))
        .startsWith("integrations: Kueue active (kueue.x-k8s.io/v1beta2 Workloads;")
        .endsWith(
            "; Volcano PodGroups switched off (integrations.volcano: disabled); coscheduling"
                + " PodGroups active");
  }

  @Test
  void enabledWithoutTheCrdRefusesToStartNamingTheSetting() {
    cluster.installCrd("/gang/podgroups.scheduling.volcano.sh.yaml");
    assertThatThrownBy(
            () ->
                Integrations.detect(
                    cluster.client, new Switches(Mode.AUTO, Mode.ENABLED, Mode.ENABLED)))
        .isInstanceOf(Integrations.Unavailable.class)
        .hasMessage(
            "integrations.coscheduling is enabled, but the cluster serves no"
                + " scheduling.x-k8s.io/v1alpha1 PodGroups (scheduler-plugins coscheduling):"
                + " install it, or set integrations.coscheduling to auto");
  }

  @Test
  void aSwitchIsAutoEnabledOrDisabled() {
    assertThat(Mode.parse("--kueue", " Disabled ")).isEqualTo(Mode.DISABLED);
    assertThatThrownBy(() -> Mode.parse("--kueue", "on"))
        .hasMessage("--kueue must be auto, enabled or disabled (got on)");
  }
}
