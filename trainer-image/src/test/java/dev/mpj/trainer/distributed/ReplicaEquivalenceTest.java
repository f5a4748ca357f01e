package dev.mpj.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mpj.trainer.collective.RendezvousConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same job on 1, 2 and 3 replicas (real processes, one libtorch thread each) at the same global
 * batch of 48, cut into micro-batches of 8: accumulation 6 on one replica, 3 on each of two, 2 on
 * each of three. The runs must end with the same master weights within rounding, skip the same
 * steps, and inside each run every replica must hold the very same bytes.
 *
 * <p>Tolerances (derived in docs/concepts/replicas.md, "How close is a multi-replica run"):
 *
 * <ul>
 *   <li>fp32: each gradient is the same sum of 48 per-sample terms added in another order, which
 *       moves it by a few FP32 ulps (relative n * 2^-24 ~ 3e-6 at most); Adam turns that into an
 *       update that differs by lr * 2 * 3e-6 ~ 6e-8, less than one ulp of a weight near 1. What
 *       remains is the rounding of w - update, which can land on a neighbouring float once the
 *       inputs differ: at most one ulp per step, so {@code STEPS * ulp(max |w|)}.
 *   <li>fp16-mixed: the gradients are FP16. One replica accumulates its micro-batches into FP16
 *       gradients; several add FP16 partial sums in the ring (each rounded to FP16 on the wire).
 *       Either way an element ends up within about two FP16 roundings (relative 2 * 2^-11) of the
 *       exact sum; Adam's m / sqrt(v) moves by at most twice a relative change of its gradients,
 *       times lr, per step: {@code STEPS * lr * 4 * 2^-11}. The same bound holds between two
 *       single-process runs that differ only in micro-batching (checked below): the difference is
 *       FP16 gradient rounding, not the replicas.
 * </ul>
 */
class ReplicaEquivalenceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 30;
  private static final double LEARNING_RATE = 0.01;
  private static final String FP16_OVERFLOWING =
      "lossScaling: {mode: dynamic, initialScale: 16777216, growthInterval: 5}"; // 2^24: overflows
  // at first

  @TempDir Path dir;

  private Path job(String name, String precision, String lossScaling) throws IOException {
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(
        file,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: %s}
        spec:
          precision: %s
          %s
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 960, features: 16, classes: 4}
            validationFraction: 0.2
          training:
            globalBatchSize: 48
            steps: %d
            optimizer: {type: adam, learningRate: %s}
            gradientClipNorm: 1.0
            seed: 3
        """
            .formatted(name, precision, lossScaling, STEPS, LEARNING_RATE));
    return file;
  }

  @Test
  void oneTwoAndThreeReplicasEndWithTheSameWeightsAndSkipTheSameSteps() throws Exception {
    List<String> jobs =
        List.of(
            job("fp32", "fp32", "").toString(),
            job("fp16", "fp16-mixed", FP16_OVERFLOWING).toString());
    try (ReplicaProcessRuns runs = new ReplicaProcessRuns()) {
      List<Process> processes = new ArrayList<>();
      List<Path> logs = new ArrayList<>();
      for (int replicas : new int[] {2, 3}) {
        RendezvousConfig config = ReplicaProcessRuns.rendezvous(replicas, Duration.ofSeconds(30));
        for (int rank = 0; rank < replicas; rank++) {
          Path log = dir.resolve("log-" + replicas + "-" + rank + ".txt");
          processes.add(
              runs.start(
                  config.withRank(rank),
                  ReplicaTrainingWorker.class,
                  workerArgs("replicas-" + replicas, 8, jobs),
                  log));
          logs.add(log);
        }
      }
      // Meanwhile the single process, here: micro-batches of 8 (accumulation 6), and of 48 as a
      // control.
      assertThat(
              ReplicaTrainingWorker.run(
                  Map.of(), workerArgs("replicas-1", 8, jobs).toArray(String[]::new)))
          .isZero();
      assertThat(
              ReplicaTrainingWorker.run(
                  Map.of(), workerArgs("control", 48, jobs).toArray(String[]::new)))
          .isZero();
      for (int i = 0; i < processes.size(); i++) {
        assertThat(
                ReplicaProcessRuns.exitCode(processes.get(i), Duration.ofSeconds(120), logs.get(i)))
            .as(ReplicaProcessRuns.read(logs.get(i)))
            .isZero();
      }
    }

    for (String job : List.of("fp32", "fp16")) {
      Map<String, float[]> single = state("replicas-1", job, 0).masterWeights();
      double tolerance =
          job.equals("fp32")
              ? STEPS * Math.ulp((float) maxAbs(single))
              : STEPS * LEARNING_RATE * 4 * Math.scalb(1.0, -11);
      for (String run : List.of("replicas-2", "replicas-3", "control")) {
        double difference = maxDifference(single, state(run, job, 0).masterWeights());
        System.out.printf(
            "%s %s: largest master weight difference from one replica %.3g (bound %.3g)%n",
            job, run, difference, tolerance);
        assertThat(difference)
            .as("%s %s against one replica", job, run)
            .isLessThanOrEqualTo(tolerance);
      }
      // Adam does not see a gradient that is off by a constant factor; the norm of the summed
      // gradient
      // does. At the first applied step all runs hold the same weights: only the rounding of the
      // sum differs.
      double sumRounding =
          job.equals("fp32") ? 48 * Math.scalb(1.0, -24) : 4 * Math.scalb(1.0, -11);
      int first = firstAppliedStep("replicas-1", job);
      JsonNode reference = steps("replicas-1", job, 0).get(first - 1);
      for (String run : List.of("replicas-2", "replicas-3")) {
        JsonNode step = steps(run, job, 0).get(first - 1);
        assertThat(relativeDifference(step.get("gradNorm"), reference.get("gradNorm")))
            .as("%s %s gradient norm", job, run)
            .isLessThanOrEqualTo(sumRounding);
        assertThat(relativeDifference(step.get("loss"), reference.get("loss")))
            .as("%s %s loss", job, run)
            .isLessThanOrEqualTo(sumRounding);
      }
      for (int replicas : new int[] {2, 3}) {
        String run = "replicas-" + replicas;
        for (int rank = 1; rank < replicas; rank++) {
          assertThat(bytes(run, job, rank, "state.bin"))
              .as("%s %s rank %d", job, run, rank)
              .isEqualTo(bytes(run, job, 0, "state.bin"));
          assertThat(steps(run, job, rank)).isEqualTo(steps(run, job, 0));
        }
      }
    }
    List<Integer> skipped = skippedSteps("replicas-2", "fp16");
    assertThat(skippedSteps("replicas-3", "fp16")).isEqualTo(skipped);
    assertThat(skippedSteps("replicas-1", "fp16")).isEqualTo(skipped);
    int firstApplied = firstAppliedStep("replicas-1", "fp16");
    assertThat(skipped)
        .as("the initial back-off from 2^24, and overflows again after the scale grew")
        .contains(1, 2)
        .anyMatch(step -> step > firstApplied);
    assertThat(skippedSteps("replicas-3", "fp32")).isEmpty();
  }

  private List<String> workerArgs(String run, int microBatch, List<String> jobs) {
    List<String> args =
        new ArrayList<>(List.of(dir.resolve(run).toString(), Integer.toString(microBatch)));
    args.addAll(jobs);
    return args;
  }

  private byte[] bytes(String run, String job, int rank, String file) throws IOException {
    return Files.readAllBytes(dir.resolve(run).resolve(job).resolve("rank-" + rank).resolve(file));
  }

  private ReplicaState state(String run, String job, int rank) throws IOException {
    return ReplicaState.fromBytes(bytes(run, job, rank, "state.bin"));
  }

  /** Each step's record without its timing: what every replica of a run must report alike. */
  private List<JsonNode> steps(String run, String job, int rank) throws IOException {
    List<JsonNode> steps = new ArrayList<>();
    for (String line : new String(bytes(run, job, rank, "metrics.jsonl")).lines().toList()) {
      ObjectNode step = (ObjectNode) JSON.readTree(line);
      step.remove("samplesPerSecond");
      steps.add(step);
    }
    return steps;
  }

  private List<Integer> skippedSteps(String run, String job) throws IOException {
    return steps(run, job, 0).stream()
        .filter(s -> s.get("skipped").asBoolean())
        .map(s -> s.get("step").asInt())
        .toList();
  }

  private int firstAppliedStep(String run, String job) throws IOException {
    return steps(run, job, 0).stream()
        .filter(s -> !s.get("skipped").asBoolean())
        .mapToInt(s -> s.get("step").asInt())
        .findFirst()
        .orElseThrow();
  }

  private static double relativeDifference(JsonNode a, JsonNode b) {
    return Math.abs(a.asDouble() - b.asDouble()) / Math.abs(b.asDouble());
  }

  private static double maxAbs(Map<String, float[]> weights) {
    double max = 0;
    for (float[] values : weights.values()) {
      for (float v : values) {
        max = Math.max(max, Math.abs(v));
      }
    }
    return max;
  }

  private static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
    assertThat(b.keySet()).containsExactlyElementsOf(a.keySet());
    double max = 0;
    for (var entry : a.entrySet()) {
      float[] x = entry.getValue();
      float[] y = b.get(entry.getKey());
      for (int i = 0; i < x.length; i++) {
        max = Math.max(max, Math.abs(x[i] - y[i]));
      }
    }
    return max;
  }
}
