package dev.mpj.operator.planning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GpuCatalogTest {

  private static final long GIB = 1L << 30;
  private final GpuCatalog catalog = GpuCatalog.builtIn();

  @Test
  void theBuiltInEntriesCarryTheDataSheetsMemory() {
    Map<String, Long> gib =
        Map.of(
            "T4", 16L,
            "V100-16GB", 16L,
            "V100-32GB", 32L,
            "A10", 24L,
            "L4", 24L,
            "L40S", 48L,
            "A100-40GB", 40L,
            "A100-80GB", 80L,
            "H100-80GB", 80L,
            "H200-141GB", 141L);
    assertThat(catalog.entries()).hasSize(gib.size());
    gib.forEach(
        (name, memory) ->
            assertThat(catalog.find(name).orElseThrow().memoryBytes())
                .as(name)
                .isEqualTo(memory * GIB));
  }

  @Test
  void tensorCoreFormatsFollowTheGeneration() {
    for (GpuType g : catalog.entries()) {
      assertThat(g.tensorCoreFormats()).as(g.name()).contains("fp16");
      assertThat(g.fastFp16()).isTrue();
      boolean ampereOrLater = !List.of("Volta", "Turing").contains(g.architecture());
      assertThat(g.tensorCoreFormats().contains("bf16"))
          .as(g.name() + " bf16")
          .isEqualTo(ampereOrLater);
      boolean fp8 = List.of("Ada Lovelace", "Hopper").contains(g.architecture());
      assertThat(g.tensorCoreFormats().contains("fp8")).as(g.name() + " fp8").isEqualTo(fp8);
      // tensor cores are faster than the FP32 units on every one of them
      assertThat(g.peakFlops(true)).isGreaterThan(g.peakFlops(false));
    }
  }

  @Test
  void namesAreFoundInAnyCaseAndByAnUnambiguousModel() {
    assertThat(catalog.find("h100")).map(GpuType::name).contains("H100-80GB");
    assertThat(catalog.find("h200")).map(GpuType::name).contains("H200-141GB");
    assertThat(catalog.find("A100")).isEmpty(); // 40 GB or 80 GB
    assertThatThrownBy(() -> catalog.select(List.of("T4", "A100")))
        .hasMessageContaining("unknown GPU 'A100'")
        .hasMessageContaining("A100-40GB, A100-80GB");
    assertThat(catalog.select(List.of("t4", "T4", "l40s")))
        .extracting(GpuType::name)
        .containsExactly("T4", "L40S");
  }

  @Test
  void aUserEntryOverridesByNameAndAddsNewOnes() {
    GpuType t4 = new GpuType("t4", 15 * GIB, "Turing", List.of("fp16"), 8.1, 65.0, "mine");
    GpuType mi300 =
        new GpuType("MI300X", 192 * GIB, "CDNA 3", List.of("FP16", "BF16"), 163.4, 1307.4, "mine");
    GpuCatalog mine = catalog.with(List.of(t4, mi300));
    assertThat(mine.entries()).hasSize(11);
    assertThat(mine.find("T4").orElseThrow().memoryBytes()).isEqualTo(15 * GIB);
    assertThat(mine.find("mi300x").orElseThrow().tensorCoreFormats())
        .containsExactly("fp16", "bf16");
    assertThat(catalog.find("T4").orElseThrow().memoryBytes()).isEqualTo(16 * GIB);
  }

  @Test
  void anEntryWithoutFp16TensorCoresEstimatesMixedPrecisionAtTheFp32Peak() {
    GpuType old = new GpuType("P100", 16 * GIB, "Pascal", List.of(), 9.3, null, "mine");
    assertThat(old.fastFp16()).isFalse();
    assertThat(old.peakFlops(true)).isEqualTo(old.peakFlops(false)).isEqualTo(9.3e12);
    assertThatThrownBy(() -> new GpuType("X", 0, "", List.of(), 1, null, ""))
        .hasMessageStartingWith("memory:");
  }

  @Test
  void nodeProductLabelsFindTheirEntry() {
    assertThat(catalog.forProduct("NVIDIA-A100-SXM4-80GB", 81920L << 20))
        .map(GpuType::name)
        .contains("A100-80GB");
    assertThat(catalog.forProduct("NVIDIA-A100-PCIE-40GB", 40960L << 20))
        .map(GpuType::name)
        .contains("A100-40GB");
    assertThat(catalog.forProduct("NVIDIA-A10", 23028L << 20)).map(GpuType::name).contains("A10");
    assertThat(catalog.forProduct("NVIDIA-L4", 23034L << 20)).map(GpuType::name).contains("L4");
    assertThat(catalog.forProduct("NVIDIA-L40S", 46068L << 20)).map(GpuType::name).contains("L40S");
    assertThat(catalog.forProduct("Tesla-T4", 15360L << 20)).map(GpuType::name).contains("T4");
    assertThat(catalog.forProduct("Tesla-V100-SXM2-32GB", 32768L << 20))
        .map(GpuType::name)
        .contains("V100-32GB");
    assertThat(catalog.forProduct("NVIDIA-H100-80GB-HBM3", 81559L << 20))
        .map(GpuType::name)
        .contains("H100-80GB");
    assertThat(catalog.forProduct("NVIDIA-GeForce-RTX-4090", 24564L << 20)).isEmpty();
  }
}
