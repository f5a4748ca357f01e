package dev.mpj.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the update groups parameters, and that a grouped parameter stays a view of its group. */
class ParameterGroupsTest {

  @Test
  void smallParametersShareGroupsUpToTheCapacityAndLargeOnesStandAlone() {
    // the quick-start's MLP 32-128-128-8: one group of all six
    ParameterGroups quickStart =
        ParameterGroups.plan(new long[] {4096, 128, 16384, 128, 1024, 8}, 65536);
    assertThat(quickStart.count()).isEqualTo(1);
    assertThat(quickStart.members(0)).containsExactly(0, 1, 2, 3, 4, 5);
    assertThat(quickStart.isFlat(0)).isTrue();
    assertThat(quickStart.elements(0)).isEqualTo(21768);
    assertThat(quickStart.offset(2)).isEqualTo(4096 + 128);

    // mlp 64-2048-2048-10: the two large weights alone, the small ones grouped around them
    ParameterGroups big =
        ParameterGroups.plan(new long[] {131072, 2048, 4194304, 2048, 20480, 10}, 65536);
    assertThat(big.count()).isEqualTo(3);
    assertThat(big.members(0)).containsExactly(0);
    assertThat(big.members(1)).containsExactly(1, 3, 4, 5);
    assertThat(big.members(2)).containsExactly(2);
    assertThat(big.groupOf(4)).isEqualTo(1);
    assertThat(big.offset(4)).isEqualTo(4096);
    assertThat(big.isFlat(0)).isFalse();

    // a parameter that does not fit into the open group starts the next one
    ParameterGroups full = ParameterGroups.plan(new long[] {6, 3, 2, 5}, 10);
    assertThat(full.count()).isEqualTo(2);
    assertThat(full.members(0)).containsExactly(0, 1);
    assertThat(full.members(1)).containsExactly(2, 3);
  }

  @Test
  void separateGroupsEachParameterAlone() {
    ParameterGroups separate = ParameterGroups.separate(new long[] {4, 1, 7});
    assertThat(separate.count()).isEqualTo(3);
    for (int g = 0; g < 3; g++) {
      assertThat(separate.members(g)).containsExactly(g);
      assertThat(separate.isFlat(g)).isFalse();
    }
    assertThatThrownBy(() -> ParameterGroups.plan(new long[] {1}, 0))
        .hasMessageContaining("capacity");
  }

  /**
   * Adam on a flat group (weights, moments and the concatenated gradient one array each) against
   * Adam on each parameter: the kernel is elementwise, so the same bits.
   */
  @Test
  void adamOnAFlatGroupGivesThePerParameterWeightsAndMoments() {
    dev.mpj.api.TrainingSpec.Optimizer spec = new dev.mpj.api.TrainingSpec.Optimizer();
    spec.learningRate = 0.01;
    spec.weightDecay = 0.1;
    long[] sizes = {12, 5, 40};
    ParameterGroups groups = ParameterGroups.plan(sizes, 1000);
    List<String> names = List.of("a", "b", "c");
    List<Shape> shapes = List.of(new Shape(3, 4), new Shape(5), new Shape(8, 5));
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      NDArray flat = manager.randomNormal(new Shape(57));
      List<NDArray> grouped = new ArrayList<>();
      List<NDArray> separate = new ArrayList<>();
      for (int p = 0; p < 3; p++) {
        grouped.add(groups.view(flat, p, shapes.get(p)));
        separate.add(grouped.get(p).duplicate());
      }
      Optimizer flatAdam = Optimizer.of(spec, names, grouped, groups, manager);
      Optimizer plainAdam = Optimizer.of(spec, names, separate, manager);
      for (int step = 0; step < 3; step++) {
        NDArray gradient = manager.randomNormal(new Shape(57));
        List<NDArray> pieces = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
          pieces.add(groups.view(gradient, p, shapes.get(p)));
        }
        flatAdam.step(List.of(flat), List.of(gradient), 0.5f);
        plainAdam.step(separate, pieces, 0.5f);
      }
      for (int p = 0; p < 3; p++) {
        assertThat(grouped.get(p).toFloatArray()).containsExactly(separate.get(p).toFloatArray());
      }
      for (int i = 0; i < 6; i++) {
        assertThat(flatAdam.state().get(i).name()).isEqualTo(plainAdam.state().get(i).name());
        assertThat(flatAdam.state().get(i).array().toFloatArray())
            .containsExactly(plainAdam.state().get(i).array().toFloatArray());
      }
    }
  }

  @Test
  void aParameterGivenMemoryOfItsOwnByARestoreIsPutBackIntoItsGroup() {
    ParameterGroups groups = ParameterGroups.plan(new long[] {6, 2}, 16);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray flat = manager.zeros(new Shape(8));
      List<NDArray> parameters = new ArrayList<>();
      parameters.add(groups.view(flat, 0, new Shape(2, 3)));
      parameters.add(groups.view(flat, 1, new Shape(2)));
      flat.addi(1f);
      assertThat(parameters.get(0).toFloatArray()).containsOnly(1f);

      // what a checkpoint restore does: DJL's copyTo gives the array memory of its own
      manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)).copyTo(parameters.get(0));
      flat.addi(10f);
      assertThat(parameters.get(0).toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);

      groups.reattach(List.of(flat), parameters);
      assertThat(flat.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6, 11, 11);
      flat.addi(1f);
      assertThat(parameters.get(0).toFloatArray()).containsExactly(2, 3, 4, 5, 6, 7);
      assertThat(parameters.get(1).toFloatArray()).containsExactly(12, 12);
    }
  }
}
