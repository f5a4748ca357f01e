package dev.mpj.trainer.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.trainer.bench.SideBySide;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the trainer says about oneMKL's kernels: read from cpuinfo and the process's maps as Linux
 * writes them, and the product check the benchmark's matrix probe prints.
 */
class MatrixLibraryTest {
  @TempDir Path dir;

  private Path file(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  @Test
  void theVendorIsTheFirstProcessorsVendorId() throws IOException {
    Path amd =
        file(
            "amd",
            """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            cpu family\t: 26
            model name\t: AMD EPYC

            processor\t: 1
            vendor_id\t: AuthenticAMD
            """);
    assertThat(MatrixLibrary.cpuVendor(amd)).contains("AuthenticAMD");
    Path intel = file("intel", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: avx512f\n");
    assertThat(MatrixLibrary.cpuVendor(intel)).contains("GenuineIntel");
    // An arm64 cpuinfo names an implementer, not an x86 vendor
    Path arm = file("arm", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n");
    assertThat(MatrixLibrary.cpuVendor(arm)).isEmpty();
    assertThat(MatrixLibrary.cpuVendor(dir.resolve("missing"))).isEmpty();
  }

  /** A maps file with libc and one more file mapped, as Linux writes /proc/PID/maps. */
  private Path maps(String name, String mapped) throws IOException {
    return file(
        name,
        "7f00a0000000-7f00a0028000 r--p 00000000 08:01 1234 /usr/lib/libc.so.6\n"
            + "7f00b0000000-7f00b0001000 r-xp 00001000 08:01 99 "
            + mapped
            + "\n");
  }

  @Test
  void theLibraryCountsAsLoadedOnlyWhereTheMapsMapIt() throws IOException {
    Path loaded = maps("loaded", "/src/trainer-image/target/native/libmpj-mkl-vendor.so");
    assertThat(MatrixLibrary.mapsLibrary(loaded)).isTrue();
    Path other = maps("other", "/opt/old/libmpj-mkl-vendor.so.old");
    assertThat(MatrixLibrary.mapsLibrary(other)).isFalse();
    assertThat(MatrixLibrary.mapsLibrary(dir.resolve("missing"))).isFalse();
  }

  @Test
  void itSaysWhichKernelsMklRunsAndWhy() {
    Optional<String> amd = Optional.of("AuthenticAMD");
    MatrixLibrary preloaded = new MatrixLibrary(amd, true, Optional.empty());
    assertThat(preloaded.describe())
        .contains("AuthenticAMD", "libmpj-mkl-vendor.so preloaded", "MPJ_MKL_VENDOR_OVERRIDE=off");

    MatrixLibrary turnedOff = new MatrixLibrary(amd, false, Optional.of("off"));
    assertThat(turnedOff.describe()).contains("generic kernels", "(MPJ_MKL_VENDOR_OVERRIDE=off)");

    MatrixLibrary notBuilt = new MatrixLibrary(amd, false, Optional.empty());
    assertThat(notBuilt.describe()).contains("generic kernels", "C compiler");

    MatrixLibrary intel = new MatrixLibrary(Optional.of("GenuineIntel"), false, Optional.empty());
    assertThat(intel.describe()).contains("GenuineIntel CPU itself");

    MatrixLibrary arm = new MatrixLibrary(Optional.empty(), false, Optional.empty());
    assertThat(arm.describe()).contains("does not apply");
  }

  @Test
  void theProductCheckIsSmallForARightProductAndAboutOneForAWrongElement() {
    // [2,3] x [3,2]
    float[] x = {1, 2, 3, 4, 5, 6};
    float[] w = {0.5f, -1, 0.25f, 2, -0.125f, 1};
    float[] c = {
      1 * 0.5f + 2 * 0.25f + 3 * -0.125f,
      1 * -1 + 2 * 2 + 3 * 1,
      4 * 0.5f + 5 * 0.25f + 6 * -0.125f,
      4 * -1 + 5 * 2 + 6 * 1
    };
    assertThat(SideBySide.productError(x, w, c, 2, 3, 2)).isZero();
    float[] wrong = c.clone();
    wrong[3] = 0; // a kernel that dropped an element
    assertThat(SideBySide.productError(x, w, wrong, 2, 3, 2)).isGreaterThan(0.5);
  }
}
