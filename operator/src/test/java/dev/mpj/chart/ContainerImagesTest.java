package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.resources.ReplicaPods;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * What can be checked of the Dockerfiles without a Docker engine: their versions, users and copied
 * files agree with the build and the chart, and install-libtorch.sh lays out a libtorch that DJL
 * loads, as a non-root user, with nothing writable.
 */
class ContainerImagesTest {
  private static final Path ROOT = RepoTools.repoRoot();
  private static final List<String> DOCKERFILES =
      List.of("operator/Dockerfile", "trainer-image/Dockerfile");
  private static final Path INSTALL_LIBTORCH =
      ROOT.resolve("trainer-image/src/main/docker/install-libtorch.sh");

  @Test
  void trainerDockerfileVersionsAreThePomsVersions() throws Exception {
    Map<String, String> args =
        argDefaults(Files.readString(ROOT.resolve("trainer-image/Dockerfile")));
    Document pom =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(ROOT.resolve("pom.xml").toFile());
    assertThat(args.get("PYTORCH_VERSION"))
        .isEqualTo(pom.getElementsByTagName("libtorch.version").item(0).getTextContent());
    assertThat(args.get("DJL_VERSION"))
        .isEqualTo(pom.getElementsByTagName("djl.version").item(0).getTextContent());
    assertThat(args.get("TORCH_FLAVOR"))
        .as("the trainer image is for CPU unless asked")
        .isEqualTo("cpu");
  }

  @Test
  void trainerPodsRunAsTheTrainerImagesUser() throws IOException {
    String finalStage = finalStage(Files.readString(ROOT.resolve("trainer-image/Dockerfile")));
    Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$").matcher(finalStage);
    assertThat(user.find()).isTrue();
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    job.getMetadata().setUid("0d1b6a2e-0000-4000-8000-000000000001");
    PodSecurityContext pod =
        ReplicaPods.desired(job, 1, 2, 0, OperatorSettings.defaults())
            .getSpec()
            .getSecurityContext();
    assertThat(pod.getRunAsUser()).isEqualTo(Long.parseLong(user.group(1)));
    assertThat(pod.getRunAsGroup()).isEqualTo(Long.parseLong(user.group(2)));
    assertThat(pod.getFsGroup()).isEqualTo(Long.parseLong(user.group(2)));
  }

  @Test
  void imagesRunAsTheNonRootUserTheChartRunsAs() throws IOException {
    long chartUser =
        new YAMLMapper()
            .readTree(HelmChart.chartDir().resolve("values.yaml").toFile())
            .at("/podSecurityContext/runAsUser")
            .asLong();
    for (String dockerfile : DOCKERFILES) {
      String finalStage = finalStage(Files.readString(ROOT.resolve(dockerfile)));
      Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$").matcher(finalStage);
      assertThat(user.find())
          .as("%s ends with a numeric USER (runAsNonRoot can check it)", dockerfile)
          .isTrue();
      assertThat(Long.parseLong(user.group(1))).as(dockerfile).isEqualTo(chartUser).isPositive();
    }
  }

  @Test
  void everyFileTheDockerfilesCopyIsInTheBuildContext() throws IOException {
    List<String> ignore = Files.readAllLines(ROOT.resolve(".dockerignore"));
    for (String dockerfile : DOCKERFILES) {
      for (String source : copiedFromContext(Files.readString(ROOT.resolve(dockerfile)))) {
        String path = source.replaceAll("/$", "");
        if (path.contains("/target/")) {
          // mvn package output: not in git, so .dockerignore must let it through.
          assertThat(ignore).as("%s copies %s", dockerfile, path).contains("!" + path);
        } else {
          assertThat(ROOT.resolve(path)).as("%s copies %s", dockerfile, path).exists();
        }
      }
    }
  }

  @Test
  void cpuLibtorchLoadsFromTheImageLayoutAsNonRootWithNothingWritable(@TempDir Path image)
      throws IOException {
    Path built = ROOT.resolve("trainer-image/target/lib");
    assumeTrue(
        Files.isDirectory(built)
            && Files.exists(built.resolve("pytorch-native-cpu-2.7.1-linux-x86_64.jar")),
        "trainer-image/target/lib not built: test skipped (mvn -B verify builds it before the operator's tests)");
    Path jar = jdkTool("jar");
    Path lib = Files.createDirectories(image.resolve("opt/mpj/lib"));
    // Not links into the checkout: the non-root user cannot read a checkout in a private folder.
    try (var jars = Files.list(built)) {
      for (Path file : jars.toList()) {
        readableCopy(file, lib.resolve(file.getFileName()));
      }
    }
    checkCpuLayout(image, lib, jar);
  }

  /**
   * A copy of {@code file} that every user can read wherever the checkout lies: a hard link when
   * the file itself is readable by all (no bytes copied), else a copy made readable.
   */
  private static void readableCopy(Path file, Path target) throws IOException {
    if (Files.getPosixFilePermissions(file).contains(PosixFilePermission.OTHERS_READ)) {
      try {
        Files.createLink(target, file);
        return;
      } catch (IOException | UnsupportedOperationException e) {
        // Another file system: copy.
      }
    }
    Files.copy(file, target);
    target.toFile().setReadable(true, false);
  }

  private static void checkCpuLayout(Path image, Path lib, Path jar) throws IOException {
    Map<String, String> versions =
        argDefaults(Files.readString(ROOT.resolve("trainer-image/Dockerfile")));
    RepoTools.Run install = installLibtorch(image, "cpu", null, versions);
    assertThat(install.exitCode()).as(install.stderr()).isZero();
    assertThat(lib.resolve("pytorch-native-cpu-2.7.1-linux-x86_64.jar"))
        .as("libtorch is not shipped twice")
        .doesNotExist();

    // The image's environment (trainer-image/Dockerfile ENV), and a user who can write nowhere.
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "-i",
                "PATH=" + jar.getParent() + ":/usr/bin:/bin",
                "DJL_CACHE_DIR=" + image.resolve("opt/djl-cache"),
                "PYTORCH_LIBRARY_PATH=" + image.resolve("opt/libtorch"),
                "PYTORCH_VERSION=" + versions.get("PYTORCH_VERSION"),
                "PYTORCH_FLAVOR=cpu"));
    Path checkSource =
        Files.createDirectories(image.resolve("check")).resolve("LibtorchCheck.java");
    readableCopy(ROOT.resolve("trainer-image/src/main/docker/LibtorchCheck.java"), checkSource);
    if ("root".equals(System.getProperty("user.name")) && RepoTools.find("setpriv").isPresent()) {
      command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
      image.toFile().setReadable(true, false);
      image.toFile().setExecutable(true, false);
    }
    command.addAll(
        List.of(
            jar.resolveSibling("java").toString(),
            "-Dai.djl.offline=true",
            "-Djava.io.tmpdir=/nonexistent",
            "-cp",
            lib + "/*",
            checkSource.toString()));
    long filesBefore = countFiles(image);
    RepoTools.Run check = RepoTools.run(command, null);
    assertThat(check.exitCode()).as(check.stdout() + check.stderr()).isZero();
    assertThat(check.stdout()).contains("libtorch " + versions.get("PYTORCH_VERSION") + " loaded");
    assertThat(countFiles(image)).as("nothing written at run time").isEqualTo(filesBefore);
  }

  @Test
  void cudaLibtorchIsFetchedFromTheRepositoryFileList(@TempDir Path dir) throws IOException {
    RepoTools.require("curl");
    Path jni =
        RepoTools.repoRoot().resolve("trainer-image/target/lib/pytorch-jni-2.7.1-0.36.0.jar");
    assumeTrue(Files.exists(jni), "trainer-image/target/lib not built: test skipped");
    // A stand-in for DJL's repository: files.txt names gzipped files per flavor, URL-encoded.
    Path repo = dir.resolve("repo/2.7.1");
    Map<String, String> files = new LinkedHashMap<>();
    files.put("cu128/linux-x86_64/native/lib/libtorch.so.gz", "libtorch.so");
    files.put("cu128/linux-x86_64/native/lib/libtorch_cuda.so.gz", "libtorch_cuda.so");
    files.put(
        "cu128/linux-x86_64/native/lib/libnvrtc-builtins%2Bcu128.so.12.8.gz",
        "libnvrtc-builtins+cu128.so.12.8");
    files.put("cpu/linux-x86_64/native/lib/libtorch_cpu.so.gz", "libtorch_cpu.so");
    for (Map.Entry<String, String> file : files.entrySet()) {
      Path stored = repo.resolve(file.getKey().replace("%2B", "+"));
      Files.createDirectories(stored.getParent());
      try (var out = new GZIPOutputStream(Files.newOutputStream(stored))) {
        out.write(("bytes of " + file.getValue()).getBytes(StandardCharsets.UTF_8));
      }
    }
    Files.writeString(repo.resolve("files.txt"), String.join("\n", files.keySet()) + "\n");
    Path image = dir.resolve("image");
    Files.createDirectories(image.resolve("opt/mpj/lib"));
    Files.copy(jni, image.resolve("opt/mpj/lib").resolve(jni.getFileName()));
    Map<String, String> versions = Map.of("PYTORCH_VERSION", "2.7.1", "DJL_VERSION", "0.36.0");

    RepoTools.Run install =
        installLibtorch(image, "cu128", "file://" + dir.resolve("repo"), versions);
    assertThat(install.exitCode()).as(install.stderr()).isZero();
    try (var installed = Files.list(image.resolve("opt/libtorch"))) {
      assertThat(installed.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder(
              "libtorch.so", "libtorch_cuda.so", "libnvrtc-builtins+cu128.so.12.8");
    }
    assertThat(Files.readString(image.resolve("opt/libtorch/libtorch_cuda.so")))
        .isEqualTo("bytes of libtorch_cuda.so");
    assertThat(
            image.resolve("opt/djl-cache/pytorch/2.7.1-cu128-linux-x86_64/0.36.0-libdjl_torch.so"))
        .isNotEmptyFile();

    RepoTools.Run unknown =
        installLibtorch(image, "cu126", "file://" + dir.resolve("repo"), versions);
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.stderr()).contains("lists no libtorch for cu126");
  }

  private static RepoTools.Run installLibtorch(
      Path image, String flavor, String baseUrl, Map<String, String> versions) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "PATH="
                    + jdkTool("jar").getParent()
                    + ":"
                    + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"),
                "PYTORCH_VERSION=" + versions.get("PYTORCH_VERSION"),
                "DJL_VERSION=" + versions.get("DJL_VERSION")));
    if (baseUrl != null) {
      command.add("LIBTORCH_BASE_URL=" + baseUrl);
    }
    command.addAll(
        List.of(
            "bash",
            INSTALL_LIBTORCH.toString(),
            image.resolve("opt/mpj/lib").toString(),
            flavor,
            image.resolve("opt/libtorch").toString(),
            image.resolve("opt/djl-cache").toString()));
    return RepoTools.run(command, null);
  }

  /** A tool of the JDK running the tests (jar, java), else from the PATH. */
  private static Path jdkTool(String name) {
    Path tool = Path.of(System.getProperty("java.home"), "bin", name);
    return Files.isExecutable(tool) ? tool : RepoTools.require(name);
  }

  /**
   * Default values of the ARGs of a Dockerfile; an ARG declared in several stages has one default.
   */
  private static Map<String, String> argDefaults(String dockerfile) {
    Map<String, String> args = new LinkedHashMap<>();
    Matcher arg = Pattern.compile("(?m)^ARG (\\w+)=(\\S+)$").matcher(dockerfile);
    while (arg.find()) {
      String earlier = args.putIfAbsent(arg.group(1), arg.group(2));
      assertThat(earlier == null ? arg.group(2) : earlier)
          .as("default of ARG %s in every stage", arg.group(1))
          .isEqualTo(arg.group(2));
    }
    return args;
  }

  private static String finalStage(String dockerfile) {
    return dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
  }

  /** Sources of COPY instructions that read the build context (no --from). */
  private static List<String> copiedFromContext(String dockerfile) {
    List<String> sources = new ArrayList<>();
    for (String line : dockerfile.lines().filter(l -> l.startsWith("COPY ")).toList()) {
      List<String> words = new ArrayList<>(List.of(line.substring(5).trim().split("\\s+")));
      if (words.stream().anyMatch(w -> w.startsWith("--from="))) {
        continue;
      }
      words.removeIf(w -> w.startsWith("--"));
      sources.addAll(words.subList(0, words.size() - 1));
    }
    assertThat(sources).isNotEmpty();
    return sources;
  }

  private static long countFiles(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      return files.count();
    }
  }
}
