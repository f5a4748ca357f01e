package dev.mpj.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.KubernetesNames;
import dev.mpj.operator.MockCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every name a job's children get is valid for its kind, whatever the job's (valid) name. */
class JobNamesTest {

  /** 1, 40, 63 and 253 characters; a leading digit; dots; both at the longest. */
  static final String[] NAMES = {
    "a",
    "a".repeat(36) + "-job",
    "b".repeat(59) + "-job",
    "c".repeat(249) + "-job",
    "1train",
    "v1.2.digits",
    "7." + "d".repeat(250),
  };

  static String[] names() {
    return NAMES;
  }

  @ParameterizedTest
  @MethodSource("names")
  void everyChildNameIsValidForItsKind(String name) {
    MixedPrecisionJob job = job(name);
    assertThat(KubernetesNames.dns1123Label(JobNames.pod(job, 0))).isEmpty();
    assertThat(KubernetesNames.dns1123Label(JobNames.pod(job, 12345))).isEmpty();
    assertThat(KubernetesNames.dns1035Label(JobNames.service(job))).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain(JobNames.configMap(job))).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain(JobNames.secret(job))).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain(JobNames.checkpointClaim(job))).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain(JobNames.event(job, "0123456789abcdef"))).isEmpty();
    assertThat(KubernetesNames.labelValue(JobNames.labelValue(job))).isEmpty();
    // Each label of a DNS name at most 63 characters, the whole at most 253.
    String address = JobNames.coordinatorAddress(job);
    assertThat(address.length()).isLessThanOrEqualTo(253);
    for (String label : address.split("\\.")) {
      assertThat(KubernetesNames.dns1123Label(label)).as(address).isEmpty();
    }
  }

  @Test
  void aNameThatFitsIsKeptAsItIs() {
    MixedPrecisionJob job = job("digits");
    assertThat(JobNames.pod(job, 1)).isEqualTo("digits-worker-1");
    assertThat(JobNames.service(job)).isEqualTo("digits-workers");
    assertThat(JobNames.configMap(job)).isEqualTo("digits-config");
    assertThat(JobNames.labelValue(job)).isEqualTo("digits");
    assertThat(JobNames.coordinatorAddress(job))
        .isEqualTo("digits-worker-0.digits-workers.team-a.svc");
    // A subdomain may hold dots and a leading digit; a ConfigMap keeps them.
    assertThat(JobNames.configMap(job("1.train"))).isEqualTo("1.train-config");
  }

  @Test
  void aNameThatDoesNotFitIsCutAndGetsAHashOfTheFullName() {
    String long1 = "x".repeat(70) + "-one";
    String long2 = "x".repeat(70) + "-two";
    String pod = JobNames.pod(job(long1), 3);
    assertThat(pod).hasSize(63).startsWith("x".repeat(40)).endsWith("-worker-3");
    assertThat(pod).contains("-" + JobNames.hash(long1) + "-");
    assertThat(JobNames.pod(job(long1), 3)).as("stable").isEqualTo(pod);
    assertThat(JobNames.pod(job(long2), 3)).as("the hash tells them apart").isNotEqualTo(pod);
    assertThat(JobNames.labelValue(job(long1))).isNotEqualTo(JobNames.labelValue(job(long2)));
  }

  @Test
  void aServiceOfAJobWhoseNameStartsWithADigitOrHasDotsStartsWithALetter() {
    assertThat(JobNames.service(job("1train")))
        .isEqualTo("mpj-1train-" + JobNames.hash("1train") + "-workers");
    assertThat(JobNames.service(job("v1.2")))
        .isEqualTo("v1-2-" + JobNames.hash("v1.2") + "-workers");
    assertThat(JobNames.service(job("v1-2")))
        .as("the hash keeps v1.2 and v1-2 apart")
        .isEqualTo("v1-2-workers");
  }

  private static MixedPrecisionJob job(String name) {
    return MockCluster.quickstart(name);
  }
}
