package dev.mpj.trainer.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CheckpointBenchCommandTest {

  @Test
  void aCheckpointedBlockIsComparedWithTheMeanOfTheBlocksAroundIt() {
    assertThat(CheckpointBenchCommand.bracketedOverhead(1.03, 1.0, 1.0))
        .isCloseTo(0.03, within(1e-12));
    // The load rose steadily from 1.0 to 2.0 s a step across three blocks: the middle one, with a
    // checkpoint that costs nothing, took 1.5 s a step. Against the block before it alone it would
    // show +50 %.
    assertThat(CheckpointBenchCommand.bracketedOverhead(1.5, 1.0, 2.0)).isCloseTo(0, within(1e-12));
    assertThat(CheckpointBenchCommand.bracketedOverhead(0.9, 1.0, 1.0))
        .isCloseTo(-0.1, within(1e-12));
  }

  @Test
  void theMedianOfTheRepeatsIgnoresOneDisturbedBlock() {
    assertThat(CheckpointBenchCommand.median(new double[] {0.01, 0.47, 0.02})).isEqualTo(0.02);
    assertThat(CheckpointBenchCommand.median(new double[] {0.04, 0.01, 0.02, 0.5}))
        .isCloseTo(0.03, within(1e-12));
    assertThat(CheckpointBenchCommand.median(new double[] {0.25})).isEqualTo(0.25);
    assertThat(CheckpointBenchCommand.median(new double[0])).isNaN();
  }
}
