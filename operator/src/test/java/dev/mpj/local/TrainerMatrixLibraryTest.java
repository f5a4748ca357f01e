package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * bin/mpj-trainer and oneMKL's vendor check, on this machine's real CPU: mvn package builds
 * libmpj-mkl-vendor.so where there is a C compiler; the launcher preloads it on an x86-64 CPU that
 * is not Intel's (and not with MPJ_MKL_VENDOR_OVERRIDE=off), the trainer says which kernels MKL
 * runs, and the products are right either way (checked against double precision in the trainer's
 * matrix probe). CI installs gcc, so that on its AMD machines the preloaded path is the one tested.
 */
class TrainerMatrixLibraryTest {
  private static final Path LIBRARY =
      LocalProcess.ROOT.resolve("trainer-image/target/native/libmpj-mkl-vendor.so");

  private record Probe(String matrixLine, double productError) {}

  private static Probe probe(Map<String, String> environment)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    LocalProcess.trainerLauncher().toString(),
                    "bench",
                    "pytorch",
                    "--gemm-child",
                    "192,160,96"))
            .redirectErrorStream(true);
    builder.environment().remove("LD_PRELOAD");
    builder.environment().remove("MPJ_MKL_VENDOR_OVERRIDE");
    builder.environment().put("MPJ_TRAINER_JAVA_OPTS", "-Dai.djl.pytorch.num_threads=1");
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    String matrix = firstLine(output, "mpj-trainer: matrix library: ");
    String check = firstLine(output, "CHECK ");
    return new Probe(matrix, Double.parseDouble(check.substring("CHECK ".length())));
  }

  private static String firstLine(String output, String prefix) {
    return output
        .lines()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no line starting \"" + prefix + "\" in\n" + output));
  }

  private static String cpuVendor() throws IOException {
    return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("vendor_id"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst()
        .orElse("");
  }

  private static boolean x86() {
    String arch = System.getProperty("os.arch");
    return arch.equals("amd64") || arch.equals("x86_64");
  }

  private static boolean hasCompiler() throws InterruptedException {
    try {
      return new ProcessBuilder("sh", "-c", "command -v cc").start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void thePackageHasTheLibraryWhereThereIsACompiler() throws InterruptedException {
    LocalProcess.trainerLauncher();
    assumeTrue(x86() && hasCompiler(), "no x86-64 C compiler here: the library is not built");
    assertThat(LIBRARY).isRegularFile();
  }

  @Test
  void theLauncherPreloadsItOnACpuThatIsNotIntels() throws Exception {
    Probe probe = probe(Map.of());
    String vendor = cpuVendor();
    if (x86() && Files.exists(LIBRARY) && !vendor.isEmpty() && !vendor.equals("GenuineIntel")) {
      assertThat(probe.matrixLine())
          .contains(vendor, "libmpj-mkl-vendor.so preloaded")
          .doesNotContain("generic kernels");
    } else if (vendor.equals("GenuineIntel")) {
      assertThat(probe.matrixLine()).contains("GenuineIntel CPU itself");
    } else {
      assertThat(probe.matrixLine()).doesNotContain("preloaded");
    }
    // A few FP32 epsilons: MKL's kernels for this CPU compute the product right
    assertThat(probe.productError()).isLessThan(1e-5);
  }

  @Test
  void overrideOffLeavesMklItsOwnCheck() throws Exception {
    Probe probe = probe(Map.of("MPJ_MKL_VENDOR_OVERRIDE", "off"));
    assertThat(probe.matrixLine()).doesNotContain("preloaded");
    String vendor = cpuVendor();
    if (!vendor.isEmpty() && !vendor.equals("GenuineIntel")) {
      assertThat(probe.matrixLine()).contains("generic kernels", "MPJ_MKL_VENDOR_OVERRIDE=off");
    }
    assertThat(probe.productError()).isLessThan(1e-5);
  }
}
