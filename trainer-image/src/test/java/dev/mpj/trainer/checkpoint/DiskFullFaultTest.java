package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class DiskFullFaultTest {
  @Test
  void readsTheStepsAndTheBytesAfterWhichTheirCheckpointsFindTheDiskFull() {
    DiskFullFault fault = DiskFullFault.parse("20, 30@4096");
    assertThat(fault.steps()).isEqualTo(Set.of(20L, 30L));
    assertThat(fault.afterBytes()).isEqualTo(4096);
    assertThat(fault.spaceFor(20).isFull(4097)).isTrue();
    assertThat(fault.spaceFor(20).isFull(4096)).isFalse();
    assertThat(fault.spaceFor(10).isFull(Long.MAX_VALUE - 1)).isFalse();
    assertThat(DiskFullFault.none().spaceFor(20).isFull(1L << 40)).isFalse();
  }

  @Test
  void spaceIsTakenByEveryWrite() {
    DiskFullFault.Space space = DiskFullFault.parse("5@100").spaceFor(5);
    space.took(60);
    assertThat(space.isFull(40)).isFalse();
    assertThat(space.isFull(41)).isTrue();
    assertThat(space.fitting(41)).isEqualTo(40);
  }

  @Test
  void aBadValueNamesTheProperty() {
    assertThatThrownBy(() -> DiskFullFault.parse("20"))
        .hasMessageContaining("mpj.checkpoint.diskFull")
        .hasMessageContaining("STEP[,STEP...]@BYTES");
    assertThatThrownBy(() -> DiskFullFault.parse("x@1")).hasMessageContaining("\"x@1\"");
    assertThatThrownBy(() -> DiskFullFault.parse("1@-1")).hasMessageContaining("0 or more");
  }
}
