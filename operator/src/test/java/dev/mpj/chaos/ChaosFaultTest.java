package dev.mpj.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.chaos.ChaosFault.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChaosFaultTest {
  private static final List<Kind> ALL = List.of(Kind.values());

  @Test
  void theSameSeedDrawsTheSameFaultsWithinTheJob() {
    List<ChaosFault> faults =
        ChaosFault.draw(18, 40, List.of("fp32", "fp16-mixed"), List.of(Kind.KILL), 2, 80, 20);
    assertThat(faults)
        .isEqualTo(
            ChaosFault.draw(18, 40, List.of("fp32", "fp16-mixed"), List.of(Kind.KILL), 2, 80, 20));
    assertThat(faults)
        .isNotEqualTo(
            ChaosFault.draw(19, 40, List.of("fp32", "fp16-mixed"), List.of(Kind.KILL), 2, 80, 20));
    assertThat(faults).extracting(ChaosFault::run).startsWith(1, 2, 3).endsWith(40);
    assertThat(faults).extracting(ChaosFault::precision).startsWith("fp32", "fp16-mixed", "fp32");
    assertThat(faults).allSatisfy(f -> assertThat(f.rank()).isBetween(0, 1));
    assertThat(faults).allSatisfy(f -> assertThat(f.step()).isBetween(5L, 60L));
    assertThat(faults).extracting(ChaosFault::rank).contains(0, 1);
    assertThat(faults.get(0).failFlag()).matches("[01]@\\d+");
    assertThat(faults.get(0).trainerOption()).isNull();
  }

  @Test
  void eachKindIsDrawnWhereItCanHappenAndInjectedItsWay() {
    List<ChaosFault> faults = ChaosFault.draw(7, 400, List.of("fp32"), ALL, 2, 20, 5);
    assertThat(faults).extracting(ChaosFault::kind).containsAll(ALL);
    for (ChaosFault f : faults) {
      switch (f.kind()) {
        case KILL -> {
          assertThat(f.step()).isBetween(5L, 15L);
          assertThat(f.failFlag()).isEqualTo(f.rank() + "@" + f.step());
          assertThat(f.destroyedCheckpoints()).isZero();
        }
        case CORRUPT_NEWEST -> {
          // after the second checkpoint: one before the newest is there to resume from
          assertThat(f.step()).isBetween(11L, 15L);
          assertThat(f.failFlag()).isEqualTo(f.rank() + "@" + f.step());
          assertThat(f.destroyedCheckpoints()).isOne();
        }
        case KILL_DURING_WRITE -> {
          assertThat(f.step()).isIn(10L, 15L);
          assertThat(f.rank()).isZero();
          assertThat(f.failFlag()).isNull();
          assertThat(f.trainerOption()).isEqualTo("-Dmpj.checkpoint.killDuringWrite=" + f.step());
        }
        case KILL_AT_RENDEZVOUS -> {
          assertThat(f.failFlag()).isNull();
          assertThat(f.trainerOption()).isNull();
          assertThat(f.kind().restarts).isOne();
        }
        case SIGSTOP -> {
          assertThat(f.step()).isBetween(5L, 15L);
          assertThat(f.failFlag()).isNull();
          assertThat(f.trainerOption()).isNull();
          assertThat(f.kind().restarts).isOne();
        }
        case DISK_FULL -> {
          assertThat(f.step()).isIn(5L, 10L, 15L);
          assertThat(f.failFlag()).isNull();
          assertThat(f.trainerOption())
              .isEqualTo("-Dmpj.checkpoint.diskFull=" + f.step() + "@4096");
          assertThat(f.kind().restarts).isZero();
        }
        case OPERATOR_RESTART -> {
          // 0: before the trainers' first step; else while they train
          assertThat(f.step()).isBetween(0L, 15L);
          assertThat(f.failFlag()).isNull();
          assertThat(f.trainerOption()).isNull();
          assertThat(f.kind().restarts).isZero();
          assertThat(f.destroyedCheckpoints()).isZero();
        }
      }
    }
  }

  @Test
  void faultKindsAreNamedAsTheOptionTakesThem() {
    assertThat(Kind.ofFlag("kill-during-write")).isEqualTo(Kind.KILL_DURING_WRITE);
    assertThat(Kind.CORRUPT_NEWEST.flag()).isEqualTo("corrupt-newest");
    assertThat(Kind.ofFlag("sigstop")).isEqualTo(Kind.SIGSTOP);
    assertThat(Kind.ofFlag("operator-restart")).isEqualTo(Kind.OPERATOR_RESTART);
    assertThatThrownBy(() -> Kind.ofFlag("sigcont"))
        .hasMessageContaining("unknown fault \"sigcont\"")
        .hasMessageContaining("operator-restart");
  }
}
