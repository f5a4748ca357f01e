package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.fuzz.ManifestMutations;
import dev.mpj.api.fuzz.ManifestMutations.MutatedJob;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.operator.gang.JobStatuses;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Never a pod, nor anything else, for an invalid job: the fuzzed manifests that parse but break a
 * rule of the validator (what an API server with a looser schema, or none, would admit) go to the
 * operator, which marks each Stalled with InvalidSpec and creates nothing for it. A valid job
 * beside them gets its pods, so the check can fail.
 */
class InvalidJobsThroughOperatorTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    cluster.close();
  }

  @Test
  void invalidFuzzedJobsGetAStalledStatusAndNothingElse() {
    List<String> invalid = new ArrayList<>();
    List<MixedPrecisionJob> jobs = new ArrayList<>();
    for (MutatedJob mutated : ManifestMutations.mutatedJobs(18, 200)) {
      MixedPrecisionJob job;
      try {
        job = JobFiles.parse(mutated.yaml());
      } catch (InvalidJobException e) {
        continue; // refused before it could be sent
      }
      String name = "fuzz-" + jobs.size();
      job.getMetadata().setName(name);
      job.getMetadata().setNamespace(MockCluster.NS);
      if (!SpecValidator.validate(job).isEmpty()) {
        jobs.add(job);
        invalid.add(name);
      }
    }
    // 22 of the 200 from seed 18 parse and break a validator rule (the others are refused while
    // read, or valid).
    assertThat(invalid).hasSizeGreaterThanOrEqualTo(20);

    cluster = MockCluster.start();
    operator = MpjOperator.start(cluster.client, OperatorSettings.defaults());
    jobs.forEach(cluster::apply);
    cluster.apply(MockCluster.quickstart("valid"));
    // What the operator judges is the job as the API server stores it: a field set to null in the
    // manifest (spec.model.cnn.channels: null) is dropped there, and the field's default applies.
    List<String> stored =
        invalid.stream()
            .filter(name -> !SpecValidator.validate(cluster.job(name)).isEmpty())
            .toList();
    assertThat(stored).hasSizeGreaterThanOrEqualTo(20);

    eventually(Duration.ofSeconds(90), () -> assertThat(cluster.pods("valid")).hasSize(2));
    for (String name : stored) {
      eventually(
          Duration.ofSeconds(90),
          () ->
              assertThat(cluster.job(name).getStatus())
                  .as(name)
                  .isNotNull()
                  .satisfies(
                      s ->
                          assertThat(s.conditions)
                              .anySatisfy(
                                  c -> {
                                    assertThat(c.getType()).isEqualTo(JobStatuses.STALLED);
                                    assertThat(c.getStatus()).isEqualTo("True");
                                    assertThat(c.getReason()).isEqualTo("InvalidSpec");
                                  })));
    }
    var client = cluster.client;
    String ns = MockCluster.NS;
    List<HasMetadata> children = new ArrayList<>();
    children.addAll(client.pods().inNamespace(ns).list().getItems());
    children.addAll(client.configMaps().inNamespace(ns).list().getItems());
    children.addAll(client.services().inNamespace(ns).list().getItems());
    children.addAll(client.secrets().inNamespace(ns).list().getItems());
    children.addAll(client.persistentVolumeClaims().inNamespace(ns).list().getItems());
    for (String name : stored) {
      String uid = cluster.job(name).getMetadata().getUid();
      assertThat(children)
          .as(name + ": nothing owned")
          .noneMatch(
              child ->
                  child.getMetadata().getOwnerReferences().stream()
                      .anyMatch(o -> uid.equals(o.getUid())));
    }
    String validUid = cluster.job("valid").getMetadata().getUid();
    assertThat(children)
        .as("the valid job owns its children (the check above can fail)")
        .anyMatch(
            child ->
                child.getMetadata().getOwnerReferences().stream()
                    .anyMatch(o -> validUid.equals(o.getUid())));
  }
}
