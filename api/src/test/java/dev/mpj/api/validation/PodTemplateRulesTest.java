package dev.mpj.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a job's pod template may pass to the replica pods (volumes, env, pull secrets, runtime
 * class, spreading, extended resources) and what it may not: whatever breaks the trainer contract,
 * or what the API server would refuse of the pod although the fabric8 mock creates it.
 */
class PodTemplateRulesTest {

  private static final String JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: churn}
      spec:
        precision: fp16-mixed
        model: {architecture: mlp, mlp: {hiddenSizes: [64]}}
        data: {source: csv, csv: {path: /data/churn.csv, labelColumn: churned}}
        training: {globalBatchSize: 32, steps: 10}
        resources: {gpusPerReplica: 1, gpuMemory: 16Gi}
        template:
      """;

  private static final String PASS_THROUGH =
      """
          volumes:
          - name: data
            persistentVolumeClaim: {claimName: churn-data, readOnly: true}
          volumeMounts:
          - {name: data, mountPath: /data, readOnly: true}
          env:
          - {name: MPJ_COLLECTIVE_TIMEOUT_SECONDS, value: "120"}
          - name: HTTPS_PROXY
            valueFrom: {configMapKeyRef: {name: proxy, key: url}}
          envFrom:
          - secretRef: {name: s3-credentials}
          imagePullSecrets:
          - {name: registry-pull}
          runtimeClassName: nvidia
          topologySpreadConstraints:
          - maxSkew: 1
            topologyKey: topology.kubernetes.io/zone
            whenUnsatisfiable: ScheduleAnyway
            labelSelector: {matchLabels: {mpj.dev/job-name: churn}}
          resources: {rdma/hca_shared_devices_a: "1"}
      """;

  private static List<Violation> violations(String template) {
    MixedPrecisionJob job = JobFiles.parse(JOB + template);
    return SpecValidator.validate(job);
  }

  @Test
  void whatPlatformTeamsNeedPasses() {
    assertThat(violations(PASS_THROUGH)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"MPJ_RANK", "MPJ_JOB_TOKEN", "MPJ_CHECKPOINT_DIR", "MPJ_WORLD_SIZE"})
  void aVariableOfTheTrainerContractIsRefusedByName(String name) {
    assertThat(violations("    env:\n    - {name: " + name + ", value: \"3\"}\n"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.template.env[0].name");
              assertThat(v.message()).contains(name).contains("set by the operator");
            });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/var/run/mpj/checkpoints",
        "/var/run/mpj/checkpoints/",
        "/var/run/mpj/checkpoints/step-1",
        "/var/run/mpj",
        "/etc/mpj",
        "/tmp",
        "/var/run/mpj/output",
        "/dev/termination-log",
        "/"
      })
  void aMountOnOrOverATrainerFolderIsRefused(String path) {
    String template =
        "    volumes: [{name: data, emptyDir: {}}]\n"
            + "    volumeMounts: [{name: data, mountPath: \""
            + path
            + "\"}]\n";
    assertThat(violations(template))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.template.volumeMounts[0].mountPath");
              assertThat(v.message()).contains("which the trainer uses");
            });
  }

  @Test
  void aMountBesideTheTrainerFoldersPasses() {
    assertThat(
            violations(
                "    volumes: [{name: data, emptyDir: {}}]\n"
                    + "    volumeMounts: [{name: data, mountPath: /var/run/mpj-data}]\n"))
        .isEmpty();
  }

  /** The fabric8 mock creates such a pod; a real API server refuses it ("Not found"). */
  @Test
  void aMountOfAVolumeThatIsNotThereIsRefused() {
    assertThat(violations("    volumeMounts: [{name: data, mountPath: /data}]\n"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.template.volumeMounts[0].name");
              assertThat(v.message()).contains("Not found: data");
            });
  }

  @Test
  void aVolumeNeedsExactlyOneSourceAndAName() {
    assertThat(violations("    volumes: [{name: data}]\n"))
        .extracting(Violation::field)
        .containsExactly("spec.template.volumes[0]");
    assertThat(
            violations(
                "    volumes: [{name: data, emptyDir: {}, persistentVolumeClaim: {claimName: x}}]\n"))
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("more than one volume type"));
    assertThat(violations("    volumes: [{name: Data_1, emptyDir: {}}]\n"))
        .extracting(Violation::field)
        .containsExactly("spec.template.volumes[0].name");
  }

  @ParameterizedTest
  @ValueSource(strings = {"config", "tmp", "output", "checkpoints"})
  void theOperatorsVolumeNamesAreTaken(String name) {
    assertThat(violations("    volumes: [{name: " + name + ", emptyDir: {}}]\n"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.template.volumes[0].name");
              assertThat(v.message()).contains("the operator adds");
            });
  }

  @Test
  void resourcesThatSizingOwnsAreRefusedWithWhereToSetThem() {
    assertThat(violations("    resources: {nvidia.com/gpu: \"2\", memory: 8Gi}\n"))
        .extracting(Violation::field, Violation::message)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                "spec.template.resources[nvidia.com/gpu]",
                "nvidia.com/gpu is sized by the operator from spec.resources.gpusPerReplica; set"
                    + " it there"),
            org.assertj.core.groups.Tuple.tuple(
                "spec.template.resources[memory]",
                "memory is sized by the operator from spec.resources.memory; set it there"));
  }

  @Test
  void aMigSliceBesideWholeGpusIsRefusedAndAloneItPasses() {
    assertThat(violations("    resources: {nvidia.com/mig-1g.10gb: \"1\"}\n"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.field()).isEqualTo("spec.template.resources[nvidia.com/mig-1g.10gb]");
              assertThat(v.message()).contains("gpusPerReplica to 0");
            });
    String migOnly =
        (JOB + "    resources: {nvidia.com/mig-1g.10gb: \"1\"}\n")
            .replace("gpusPerReplica: 1, gpuMemory: 16Gi", "gpusPerReplica: 0, gpuMemory: 10Gi");
    assertThat(SpecValidator.validate(JobFiles.parse(migOnly))).isEmpty();
  }

  @Test
  void anExtendedResourceIsAWholePositiveNumberWithADomain() {
    assertThat(violations("    resources: {rdma/hca_shared_devices_a: 500m}\n"))
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("whole number"));
    assertThat(violations("    resources: {rdma/hca_shared_devices_a: \"0\"}\n"))
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("positive"));
    assertThat(violations("    resources: {rdma: \"1\"}\n"))
        .singleElement()
        .satisfies(v -> assertThat(v.message()).contains("with a domain"));
    assertThat(violations("    resources: {hugepages-2Mi: 1Gi, ephemeral-storage: 20Gi}\n"))
        .isEmpty();
  }

  @Test
  void spreadingNeedsWhatTheApiServerRequires() {
    assertThat(
            violations(
                "    topologySpreadConstraints: [{maxSkew: 0, whenUnsatisfiable: Sometimes}]\n"))
        .extracting(Violation::field)
        .containsExactly(
            "spec.template.topologySpreadConstraints[0].maxSkew",
            "spec.template.topologySpreadConstraints[0].topologyKey",
            "spec.template.topologySpreadConstraints[0].whenUnsatisfiable");
  }

  @Test
  void envFromNamesOneSourceAndAPullSecretItsName() {
    assertThat(violations("    envFrom: [{prefix: X_}]\n    imagePullSecrets: [{}]\n"))
        .extracting(Violation::field)
        .containsExactly("spec.template.envFrom[0]", "spec.template.imagePullSecrets[0].name");
  }
}
