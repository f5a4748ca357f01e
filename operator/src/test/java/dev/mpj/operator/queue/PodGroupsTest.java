package dev.mpj.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/**
 * The gang check runs on every reconcile, before the validator's verdict is acted on, so it must
 * take any stored job: one without a spec (a manifest with {@code spec: null}) has no gang
 * scheduler, and the validator, not a NullPointerException, says what is wrong with it.
 */
class PodGroupsTest {
  @Test
  void aJobWithoutASpecAsksForNoGangScheduler() {
    MixedPrecisionJob job = new MixedPrecisionJob();
    job.setMetadata(new ObjectMetaBuilder().withName("no-spec").withNamespace("team-a").build());
    job.setSpec(null);

    assertThat(PodGroups.policy(job)).isNull();
    assertThat(PodGroups.unavailable(job, Integrations.NONE)).isNull();
  }
}
