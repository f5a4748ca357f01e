package dev.mpj.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.EngineException;
import org.junit.jupiter.api.Test;

class FailureReasonsTest {

  @Test
  void aReasonIsOneLineAndCutToFit() {
    assertThat(FailureReasons.oneLine("  first\n   second\r\nthird  "))
        .isEqualTo("first second third");
    String cut = FailureReasons.oneLine("x".repeat(5000));
    assertThat(cut).hasSize(FailureReasons.MAX_CHARS).endsWith("...");
  }

  @Test
  void outOfMemoryIsSaidWhereTheJvmOrTheEngineTellsIt() {
    assertThat(FailureReasons.unexpected(new OutOfMemoryError("Java heap space")))
        .startsWith("out of memory (Java heap): Java heap space");
    // What libtorch says when an allocation fails, wrapped as DJL wraps it.
    var engine =
        new EngineException(
            "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)\n"
                + "Exception raised from malloc at ...");
    assertThat(FailureReasons.unexpected(new IllegalStateException("step failed", engine)))
        .isEqualTo(
            "out of memory: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total"
                + " capacity); raise the replica's memory");
  }

  @Test
  void anythingElseIsItsTypeAndFirstLine() {
    assertThat(FailureReasons.unexpected(new IllegalStateException("broken\n\tat x.y(Z.java:1)")))
        .isEqualTo("unexpected error: IllegalStateException: broken");
    assertThat(FailureReasons.unexpected(new NullPointerException()))
        .isEqualTo("unexpected error: NullPointerException");
  }
}
