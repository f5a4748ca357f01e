package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LossChunksTest {

  @Test
  void fewOutputsStayInOnePiece() {
    assertThat(LossChunks.chunks(4096, 10)).isEqualTo(1);
    assertThat(LossChunks.rowsPerChunk(4096, 10)).isEqualTo(4096);
    assertThat(LossChunks.chunks(64, 4095)).isEqualTo(1);
  }

  @Test
  void manyOutputsGoInEightPiecesOfRows() {
    // The transformer of bench memory: 32 sequences of 128 positions, vocabulary 256.
    assertThat(LossChunks.chunks(32 * 128, 128 * 256)).isEqualTo(8);
    assertThat(LossChunks.rowsPerChunk(32 * 128, 128 * 256)).isEqualTo(512);
    assertThat(LossChunks.rowsPerChunk(13, 4096)).isEqualTo(2); // 7 pieces of 2, the last of 1
  }

  @Test
  void neverMorePiecesThanRows() {
    assertThat(LossChunks.chunks(3, 50_257)).isEqualTo(3);
    assertThat(LossChunks.rowsPerChunk(3, 50_257)).isEqualTo(1);
  }

  @Test
  void noRowsIsRefused() {
    assertThatThrownBy(() -> LossChunks.chunks(0, 4096)).hasMessageContaining("rows");
  }
}
