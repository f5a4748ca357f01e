package dev.mpj.operator.planning;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The GPUs a plan can target: built-in entries for the common data-centre GPUs, with figures from
 * NVIDIA's data sheets (docs/operations/capacity-planning.md cites them), which a user's catalog
 * file extends or overrides by name.
 */
public final class GpuCatalog {

  private static final long GIB = 1L << 30;
  private static final List<String> VOLTA_TURING = List.of("fp16");
  private static final List<String> AMPERE = List.of("tf32", "fp16", "bf16");
  private static final List<String> ADA_HOPPER = List.of("tf32", "fp16", "bf16", "fp8");

  /** Peak dense figures, without sparsity; SXM parts where the data sheet lists several. */
  private static final List<GpuType> BUILT_IN =
      List.of(
          new GpuType("T4", 16 * GIB, "Turing", VOLTA_TURING, 8.1, 65.0, "NVIDIA T4 data sheet"),
          new GpuType(
              "V100-16GB",
              16 * GIB,
              "Volta",
              VOLTA_TURING,
              15.7,
              125.0,
              "NVIDIA V100 data sheet (SXM2)"),
          new GpuType(
              "V100-32GB",
              32 * GIB,
              "Volta",
              VOLTA_TURING,
              15.7,
              125.0,
              "NVIDIA V100 data sheet (SXM2)"),
          new GpuType("A10", 24 * GIB, "Ampere", AMPERE, 31.2, 125.0, "NVIDIA A10 data sheet"),
          new GpuType(
              "L4", 24 * GIB, "Ada Lovelace", ADA_HOPPER, 30.3, 121.0, "NVIDIA L4 data sheet"),
          new GpuType(
              "L40S", 48 * GIB, "Ada Lovelace", ADA_HOPPER, 91.6, 362.05, "NVIDIA L40S data sheet"),
          new GpuType(
              "A100-40GB", 40 * GIB, "Ampere", AMPERE, 19.5, 312.0, "NVIDIA A100 data sheet (SXM)"),
          new GpuType(
              "A100-80GB", 80 * GIB, "Ampere", AMPERE, 19.5, 312.0, "NVIDIA A100 data sheet (SXM)"),
          new GpuType(
              "H100-80GB",
              80 * GIB,
              "Hopper",
              ADA_HOPPER,
              67.0,
              989.5,
              "NVIDIA H100 data sheet (SXM)"),
          new GpuType(
              "H200-141GB",
              141 * GIB,
              "Hopper",
              ADA_HOPPER,
              67.0,
              989.5,
              "NVIDIA H200 data sheet (SXM)"));

  private final Map<String, GpuType> entries;

  private GpuCatalog(Map<String, GpuType> entries) {
    this.entries = entries;
  }

  public static GpuCatalog builtIn() {
    Map<String, GpuType> entries = new LinkedHashMap<>();
    BUILT_IN.forEach(g -> entries.put(key(g.name()), g));
    return new GpuCatalog(entries);
  }

  /** This catalog with {@code added}: an entry of the same name (any case) replaces the old one. */
  public GpuCatalog with(List<GpuType> added) {
    Map<String, GpuType> merged = new LinkedHashMap<>(entries);
    added.forEach(g -> merged.put(key(g.name()), g));
    return new GpuCatalog(merged);
  }

  public List<GpuType> entries() {
    return List.copyOf(entries.values());
  }

  /**
   * The entry named {@code name}, case-insensitively; a short name such as {@code H100} or {@code
   * A100} also finds its entry when exactly one entry starts with it and a dash.
   */
  public Optional<GpuType> find(String name) {
    GpuType exact = entries.get(key(name));
    if (exact != null) {
      return Optional.of(exact);
    }
    List<GpuType> family =
        entries.values().stream().filter(g -> key(g.name()).startsWith(key(name) + "-")).toList();
    return family.size() == 1 ? Optional.of(family.get(0)) : Optional.empty();
  }

  /**
   * The entries {@code names} name, in order.
   *
   * @throws IllegalArgumentException naming the GPU that the catalog does not know, and the names
   *     it does
   */
  public List<GpuType> select(List<String> names) {
    List<GpuType> selected = new ArrayList<>();
    for (String name : names) {
      GpuType gpu =
          find(name.trim())
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "unknown GPU '"
                              + name.trim()
                              + "'; the catalog has "
                              + String.join(
                                  ", ", entries.values().stream().map(GpuType::name).toList())));
      if (!selected.contains(gpu)) {
        selected.add(gpu);
      }
    }
    return selected;
  }

  private static final Pattern TOKEN = Pattern.compile("[-_ ]+");

  /**
   * The entry for a node's {@code nvidia.com/gpu.product} label (e.g. NVIDIA-A100-SXM4-80GB,
   * Tesla-T4): an entry whose model (its name before the first dash) is one of the label's words,
   * the one whose memory is nearest {@code memoryBytes} when several are.
   */
  public Optional<GpuType> forProduct(String product, Long memoryBytes) {
    if (product == null) {
      return Optional.empty();
    }
    List<String> words =
        List.of(TOKEN.split(product.toUpperCase(Locale.ROOT))).stream()
            .filter(w -> !w.isEmpty())
            .toList();
    return entries.values().stream()
        .filter(g -> words.contains(g.name().toUpperCase(Locale.ROOT).split("-")[0]))
        .min(
            (a, b) ->
                Long.compare(
                    memoryBytes == null ? 0 : Math.abs(a.memoryBytes() - memoryBytes),
                    memoryBytes == null ? 0 : Math.abs(b.memoryBytes() - memoryBytes)));
  }

  private static String key(String name) {
    return name.toUpperCase(Locale.ROOT);
  }
}
