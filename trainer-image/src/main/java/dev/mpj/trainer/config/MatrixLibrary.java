package dev.mpj.trainer.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * How libtorch's oneMKL chooses its FP32 matrix kernels in this process, said in one line at the
 * trainer's start and in the benchmarks. oneMKL takes the kernels a CPU's instruction sets allow
 * only on Intel's CPUs; on any other x86 CPU it runs generic code (on an AMD EPYC: 90-100 GFLOP/s
 * against 206-218, one thread) unless the launcher preloaded {@value #LIBRARY}, which answers MKL's
 * vendor question (trainer-image/src/main/native/mkl_vendor.c). The launchers decide (the preload
 * must be in place before the process starts); this reads what they did.
 *
 * @param cpuVendor the CPU's {@code vendor_id} from /proc/cpuinfo, empty where it has none (not
 *     x86)
 * @param vendorLibraryLoaded whether {@value #LIBRARY} is mapped into this process
 * @param override {@value #OVERRIDE_VARIABLE} as set, empty when unset
 */
public record MatrixLibrary(
    Optional<String> cpuVendor, boolean vendorLibraryLoaded, Optional<String> override) {
  public static final String LIBRARY = "libmpj-mkl-vendor.so";
  public static final String OVERRIDE_VARIABLE = "MPJ_MKL_VENDOR_OVERRIDE";
  private static final String INTEL = "GenuineIntel";

  /** This process: /proc/cpuinfo, /proc/self/maps and the environment. */
  public static MatrixLibrary ofThisProcess() {
    return new MatrixLibrary(
        cpuVendor(Path.of("/proc/cpuinfo")),
        mapsLibrary(Path.of("/proc/self/maps")),
        Optional.ofNullable(System.getenv(OVERRIDE_VARIABLE)));
  }

  /** One line for a person: which kernels MKL runs here, and why. */
  public String describe() {
    if (cpuVendor.isEmpty()) {
      return "no x86 CPU vendor in /proc/cpuinfo: oneMKL's vendor check does not apply";
    }
    String vendor = cpuVendor.get();
    if (vendorLibraryLoaded) {
      return "oneMKL takes the kernels this "
          + vendor
          + " CPU's instruction sets allow ("
          + LIBRARY
          + " preloaded; "
          + OVERRIDE_VARIABLE
          + "=off keeps MKL's vendor check)";
    }
    if (vendor.equals(INTEL)) {
      return "oneMKL chooses its kernels for this " + INTEL + " CPU itself";
    }
    String why =
        override.filter("off"::equals).isPresent()
            ? OVERRIDE_VARIABLE + "=off"
            : "not preloaded: bin/mpj-trainer preloads "
                + LIBRARY
                + " where mvn package built it, which needs a C compiler";
    return "oneMKL runs its generic kernels on this "
        + vendor
        + " CPU, about half the FP32 matrix speed it could have ("
        + why
        + ")";
  }

  /** The first {@code vendor_id} of a cpuinfo file; empty when it has none or cannot be read. */
  static Optional<String> cpuVendor(Path cpuinfo) {
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines
          .filter(l -> l.startsWith("vendor_id"))
          .findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .filter(v -> !v.isEmpty());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Whether a maps file (/proc/PID/maps) maps {@value #LIBRARY}. */
  static boolean mapsLibrary(Path maps) {
    try (Stream<String> lines = Files.lines(maps)) {
      return lines.anyMatch(l -> l.endsWith("/" + LIBRARY));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
