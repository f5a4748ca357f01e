package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CommonPoolTest {
  @Test
  void aJvmThatSeesTwoCpusOrFewerGetsACommonPoolOfTwo() {
    assertThat(CommonPool.parallelismFor(null, 1)).isEqualTo(OptionalInt.of(2));
    assertThat(CommonPool.parallelismFor(null, 2)).isEqualTo(OptionalInt.of(2));
  }

  @Test
  void moreCpusKeepTheJdksDefault() {
    assertThat(CommonPool.parallelismFor(null, 3)).isEmpty();
    assertThat(CommonPool.parallelismFor(null, 64)).isEmpty();
  }

  @Test
  void aParallelismTheUserSetIsKept() {
    assertThat(CommonPool.parallelismFor("1", 2)).isEmpty();
  }
}
