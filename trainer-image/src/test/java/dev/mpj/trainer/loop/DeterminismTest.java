package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The groundwork of exact resume: every random draw depends on (seed, step) and every piece of
 * state is reachable, so a run continued in a fresh session from another session's state at step 6
 * ends with the same master weights, bit for bit, as a run that never stopped. Dropout is on.
 */
class DeterminismTest {
  private static final String SPEC =
      Jobs.mlpClassification(12, 16)
          .replace("activation: relu}", "activation: relu, dropout: 0.2}");

  @ParameterizedTest
  @ValueSource(strings = {"fp32", "fp16-mixed"})
  void aRunContinuedFromItsStateEndsBitIdentical(String precision) {
    String job = Jobs.job(precision, SPEC);
    List<float[]> uninterrupted;
    try (TrainingSession whole = Jobs.session(job, 32)) {
      whole.run();
      uninterrupted = values(whole.weights().masterArrays());
    }
    try (TrainingSession first = Jobs.session(job, 32)) {
      for (int i = 0; i < 6; i++) {
        first.runStep();
      }
      // A fresh session, as after a restart: its construction reseeds and draws initial weights.
      try (TrainingSession second = Jobs.session(job, 32)) {
        copy(first.weights().masterArrays(), second.weights().masterArrays());
        copy(
            first.optimizer().state().stream().map(a -> a.array()).toList(),
            second.optimizer().state().stream().map(a -> a.array()).toList());
        second.optimizer().restoreUpdates(first.optimizer().updates());
        second.scaler().restore(first.scaler().scale(), first.scaler().growthTracker());
        second.restorePosition(
            first.step(), 0, first.dataOrder().epoch(), first.dataOrder().index());
        second.weights().copyToWorking();
        RunSummary summary = second.run();
        assertThat(summary.resumedFromStep()).isEqualTo(6L);
        assertThat(summary.steps()).isEqualTo(12);
        List<float[]> resumed = values(second.weights().masterArrays());
        for (int i = 0; i < resumed.size(); i++) {
          assertThat(resumed.get(i)).as("parameter %d", i).containsExactly(uninterrupted.get(i));
        }
      }
    }
  }

  private static void copy(List<NDArray> from, List<NDArray> to) {
    for (int i = 0; i < from.size(); i++) {
      from.get(i).copyTo(to.get(i));
    }
  }

  private static List<float[]> values(List<NDArray> arrays) {
    List<float[]> out = new ArrayList<>();
    for (NDArray a : arrays) {
      out.add(a.toFloatArray());
    }
    return out;
  }
}
