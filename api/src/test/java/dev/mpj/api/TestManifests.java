package dev.mpj.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Paths of the repository that the api tests read: the committed CRD, the examples, the docs. */
final class TestManifests {
  /** Surefire runs in the module folder; the repository root is its parent. */
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  static final Path COMMITTED_CRD = ROOT.resolve("crds").resolve(Crd.FILE_NAME);
  static final Path GENERATED_CRD =
      Path.of("target", "classes", "META-INF", "fabric8", Crd.FILE_NAME).toAbsolutePath();
  static final Path EXAMPLES = ROOT.resolve("docs").resolve("examples");
  static final Path CRD_REFERENCE = ROOT.resolve("docs").resolve("reference").resolve("crd.md");

  /**
   * Fields of the CRD whose schema is a Kubernetes type (pod template parts, conditions): they
   * carry Kubernetes' own documentation, so the CRD tests and the reference do not descend into
   * them.
   */
  static final Set<String> KUBERNETES_TYPES =
      Set.of(
          "affinity",
          "tolerations",
          "conditions",
          "volumes",
          "volumeMounts",
          "env",
          "envFrom",
          "imagePullSecrets",
          "topologySpreadConstraints");

  /** A valid small job to mutate in tests. */
  static final String VALID_JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata:
        name: digits-mlp
      spec:
        precision: fp16-mixed
        model:
          architecture: mlp
          mlp: {hiddenSizes: [64, 64], activation: relu}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 1024, features: 16, classes: 4}
        training:
          globalBatchSize: 32
          steps: 10
      """;

  static List<Path> examples() {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TestManifests() {}
}
