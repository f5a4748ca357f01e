package dev.mpj.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DataTaskTest {

  @Test
  void aFileWithoutATaskIsClassificationOrSequenceForTheTransformer() {
    DataSpec npz = npz(null, null);
    assertThat(DataTask.of(npz, ModelSpec.Architecture.MLP))
        .isEqualTo(DataSpec.Task.CLASSIFICATION);
    assertThat(DataTask.of(npz, ModelSpec.Architecture.CNN))
        .isEqualTo(DataSpec.Task.CLASSIFICATION);
    assertThat(DataTask.of(npz, ModelSpec.Architecture.TRANSFORMER))
        .isEqualTo(DataSpec.Task.SEQUENCE);
    assertThat(DataTask.of(npz(DataSpec.Task.REGRESSION, null), ModelSpec.Architecture.MLP))
        .isEqualTo(DataSpec.Task.REGRESSION);
  }

  @Test
  void sizingReadsTheHeadWidthOfAFileFromItsStatedTask() {
    ModelSpec mlp = new ModelSpec();
    mlp.architecture = ModelSpec.Architecture.MLP;
    mlp.mlp = new ModelSpec.Mlp();
    assertThat(DataShape.of(npz(DataSpec.Task.REGRESSION, null)).outputs()).isEqualTo(1);
    assertThat(DataShape.of(npz(null, 7)).outputs()).isEqualTo(7);
    assertThat(DataShape.of(npz(DataSpec.Task.CLASSIFICATION, null)).outputs())
        .as("classes left to the file's largest label")
        .isNull();
    assertThat(DataShape.of(npz(DataSpec.Task.REGRESSION, null)).missingFor(mlp))
        .containsExactly("features");
    assertThat(DataShape.of(npz(null, null)).missingFor(mlp))
        .containsExactly("features", "classes");
  }

  private static DataSpec npz(DataSpec.Task task, Integer classes) {
    DataSpec data = new DataSpec();
    data.source = DataSpec.Source.NPZ;
    data.npz = new DataSpec.Npz();
    data.npz.path = "/data/train.npz";
    data.npz.task = task;
    data.npz.classes = classes;
    return data;
  }
}
