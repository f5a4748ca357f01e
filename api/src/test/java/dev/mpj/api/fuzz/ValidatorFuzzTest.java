package dev.mpj.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.fuzz.ManifestMutations.MutatedJob;
import dev.mpj.api.validation.Violation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzzed manifests through the validator ({@code JobFiles.parse} and {@code SpecValidator}): a
 * mutated example is either valid, or refused with violations that each name a field, one of which
 * is the mutated field, its object or a field beside it (or spec.resources.memory, when the
 * mutation grew the model's checkpoint beyond it); never another exception.
 */
class ValidatorFuzzTest {

  /** 1000 mutated jobs from seed 18: the same jobs in every run. */
  @Test
  void everyRefusalNamesTheMutatedField() {
    for (MutatedJob mutated : ManifestMutations.mutatedJobs(18, 1000)) {
      check(mutated);
    }
  }

  private void check(MutatedJob mutated) {
    List<Violation> violations = ManifestMutations.violations(mutated.yaml());
    if (violations == null) {
      return;
    }
    assertThat(violations).allSatisfy(v -> assertThat(v.field()).isNotBlank());
    assertThat(violations)
        .as("%s refused with %s", mutated, violations)
        .anySatisfy(
            v ->
                assertThat(
                        ManifestMutations.relates(v.field(), mutated.path())
                            // A rule between two fields names one and says the other.
                            || v.toString().contains(mutated.path().replaceFirst("^spec\\.", ""))
                            || sizesTheSnapshot(v, mutated.path()))
                    .isTrue());
  }

  /**
   * The memory a replica needs for rank 0's checkpoint snapshot follows the model's parameter count
   * (the model and the data's shape) and the optimizer's state: a change there can make the job's
   * spec.resources.memory too small, and the refusal names that field with the count.
   */
  private static boolean sizesTheSnapshot(Violation v, String mutatedPath) {
    return v.field().equals("spec.resources.memory")
        && v.message().contains("checkpoint snapshot")
        && (mutatedPath.startsWith("spec.model")
            || mutatedPath.startsWith("spec.data")
            || mutatedPath.startsWith("spec.training.optimizer"));
  }
}
