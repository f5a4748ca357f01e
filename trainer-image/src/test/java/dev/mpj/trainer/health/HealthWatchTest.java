package dev.mpj.trainer.health;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The flush check on FP16 gradients: which gradients count as entirely zero, and what it holds. */
class HealthWatchTest {

  private static NDArray fp16(NDManager manager, float... values) {
    return manager.create(values).toType(DataType.FLOAT16, false);
  }

  /** What the step's read-back hands back for {@code gradients}' extremes. */
  private static boolean flushed(List<NDArray> gradients) {
    float[] values = NDArrays.stack(new NDList(HealthWatch.extremes(gradients))).toFloatArray();
    return HealthWatch.anyAllZero(values);
  }

  @Test
  void aGradientCountsAsFlushedOnlyWhereEveryElementIsZero() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray positive = fp16(manager, 0f, 0f, 3f);
      NDArray negative = fp16(manager, -2f, 0f, -1f);
      NDArray subnormal = fp16(manager, 0f, 6e-8f, 0f); // FP16's smallest subnormal survives
      NDArray zero = fp16(manager, 0f, 0f, 0f);
      NDArray negativeZero = fp16(manager, -0f, 0f, -0f);

      assertThat(flushed(List.of(positive, negative, subnormal))).isFalse();
      assertThat(flushed(List.of(positive, zero, negative))).isTrue();
      assertThat(flushed(List.of(negativeZero))).isTrue();
    }
  }

  @Test
  void itMakesNoArrayOfAGradientsSize() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NDArray> gradients =
          List.of(
              manager.randomNormal(new Shape(64, 64)).toType(DataType.FLOAT16, false),
              manager.randomNormal(new Shape(4096)).toType(DataType.FLOAT16, false));
      Set<NDArray> before = new HashSet<>(manager.getManagedArrays());

      List<NDArray> extremes = HealthWatch.extremes(gradients);

      // The arrays live in the step's scope until the update has run: a copy of each gradient
      // (abs) would be held through the update. Only scalars may be.
      assertThat(extremes).hasSize(4).allSatisfy(a -> assertThat(a.size()).isEqualTo(1));
      assertThat(manager.getManagedArrays())
          .filteredOn(a -> !before.contains(a))
          .isNotEmpty()
          .allSatisfy(a -> assertThat(a.size()).isEqualTo(1));
    }
  }
}
