package dev.mpj.operator.sizing;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.validation.SpecValidator;

/** Job specs for tests, written as users write them. */
final class Jobs {
  private Jobs() {}

  /** A valid spec from the YAML under {@code spec:}, indented by two spaces. */
  static MixedPrecisionJobSpec spec(String specYaml) {
    String yaml =
        "apiVersion: mpj.dev/v1alpha1\nkind: MixedPrecisionJob\nmetadata: {name: t}\nspec:\n"
            + specYaml.indent(2);
    MixedPrecisionJob job = JobFiles.parse(yaml);
    SpecValidator.requireValid(job);
    return job.getSpec();
  }
}
