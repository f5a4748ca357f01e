package dev.mpj.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChaosFaultTest {
  @Test
  void theSameSeedDrawsTheSameFaultsWithinTheJob() {
    List<ChaosFault> faults = ChaosFault.draw(18, 40, List.of("fp32", "fp16-mixed"), 2, 80, 20);
    assertThat(faults).isEqualTo(ChaosFault.draw(18, 40, List.of("fp32", "fp16-mixed"), 2, 80, 20));
    assertThat(faults)
        .isNotEqualTo(ChaosFault.draw(19, 40, List.of("fp32", "fp16-mixed"), 2, 80, 20));
    assertThat(faults).extracting(ChaosFault::run).startsWith(1, 2, 3).endsWith(40);
    assertThat(faults).extracting(ChaosFault::precision).startsWith("fp32", "fp16-mixed", "fp32");
    assertThat(faults).allSatisfy(f -> assertThat(f.rank()).isBetween(0, 1));
    assertThat(faults).allSatisfy(f -> assertThat(f.step()).isBetween(5L, 59L));
    assertThat(faults).extracting(ChaosFault::rank).contains(0, 1);
    assertThat(faults.get(0).failFlag()).matches("[01]@\\d+");
  }
}
