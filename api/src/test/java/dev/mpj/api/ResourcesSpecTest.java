package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

class ResourcesSpecTest {

  @Test
  void theCpuRequestInCores() {
    ResourcesSpec resources = new ResourcesSpec();
    assertThat(resources.cpuCores()).isEmpty();
    resources.cpu = new Quantity("500m");
    assertThat(resources.cpuCores()).hasValue(0.5);
    resources.cpu = new Quantity("4");
    assertThat(resources.cpuCores()).hasValue(4.0);
  }
}
