package dev.mpj.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.JobFiles;
import dev.mpj.api.validation.InvalidJobException;
import org.junit.jupiter.api.Test;

/** Defects the fuzzed manifests found, each as the case that found it. */
class FuzzRegressionTest {

  private static final String JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: fuzzed}
      spec:
        precision: fp32
        model: {architecture: mlp}
        data: {source: synthetic, synthetic: {task: classification, samples: 64, features: 4, classes: 2}}
        training: {globalBatchSize: 8, steps: 1}
      """;

  @Test
  void anUnknownFieldWithAnEmptyNameIsNamedNotBlank() {
    // ADD_FIELD "" at the root: the refusal's field was "", naming nothing.
    assertThatThrownBy(() -> JobFiles.parse(JOB + "\"\": 1\n"))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e ->
                assertThat(e.violations())
                    .singleElement()
                    .satisfies(v -> assertThat(v.field()).isEqualTo("\"\"")));
    assertThatThrownBy(() -> JobFiles.parse(JOB.replace("steps: 1", "steps: 1, \"replicas \": 2")))
        .isInstanceOfSatisfying(
            InvalidJobException.class,
            e ->
                assertThat(e.violations().get(0).field()).isEqualTo("spec.training.\"replicas \""));
  }
}
