package dev.mpj.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.fuzz.ManifestMutations.MutatedJob;
import dev.mpj.api.validation.Violation;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzed manifests through the validator ({@code JobFiles.parse} and {@code SpecValidator}): a
 * mutated example is either valid, or refused with violations that each name a field, one of which
 * is the mutated field, its object or a field beside it; never another exception.
 */
class ValidatorFuzzTest {

  @Property(tries = 1000, seed = "18")
  void everyRefusalNamesTheMutatedField(@ForAll("mutatedJobs") MutatedJob mutated) {
    List<Violation> violations = ManifestMutations.violations(mutated.yaml());
    Statistics.collect(violations == null ? "valid" : "refused");
    if (violations == null) {
      return;
    }
    assertThat(violations).allSatisfy(v -> assertThat(v.field()).isNotBlank());
    assertThat(violations)
        .as("%s refused with %s", mutated, violations)
        .anySatisfy(v -> assertThat(ManifestMutations.relates(v.field(), mutated.path())).isTrue());
  }

  @Provide
  Arbitrary<MutatedJob> mutatedJobs() {
    return ManifestMutations.mutatedJobs();
  }
}
