package dev.mpj.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * What one chaos run must show, judged from what it left: the job Succeeded; one restart for the
 * one kill; one pod per rank and attempt; no more steps lost than the checkpoint interval; final
 * weights equal, byte for byte, to the uninterrupted run's. A pure function of the facts.
 *
 * @param phase the job's final phase
 * @param restarts status.restarts
 * @param pods the pods that ran, as {@code <job>-worker-<rank>-attempt-<attempt>}
 * @param expectedPods one per rank in each of the attempts the faults call for
 * @param lastStepBeforeKill the newest step rank 0 finished in attempt 1
 * @param resumedFromStep the checkpoint step attempt 2 resumed from (0: from the start)
 * @param interval the most steps the recovery may redo: the checkpoint interval after a kill, more
 *     when the fault cost a checkpoint ({@link ChaosFault#maxLostSteps})
 * @param identicalWeights whether the final checkpoint equals the uninterrupted run's
 */
public record RunOutcome(
    String phase,
    int restarts,
    List<String> pods,
    List<String> expectedPods,
    long lastStepBeforeKill,
    long resumedFromStep,
    long interval,
    boolean identicalWeights) {

  /** Steps trained in attempt 1 and trained again in attempt 2. */
  public long lostSteps() {
    return Math.max(0, lastStepBeforeKill - resumedFromStep);
  }

  /** What does not hold; empty when the run recovered as it must. */
  public List<String> problems(int faultsNeedingRestart) {
    List<String> problems = new ArrayList<>();
    if (!"Succeeded".equals(phase)) {
      problems.add("phase " + phase + ", not Succeeded");
    }
    if (restarts != faultsNeedingRestart) {
      problems.add(restarts + " restarts for " + faultsNeedingRestart + " kill(s)");
    }
    if (!new TreeSet<>(pods).equals(new TreeSet<>(expectedPods))
        || pods.size() != expectedPods.size()) {
      problems.add("pods " + pods + ", expected one per rank and attempt: " + expectedPods);
    }
    if (lostSteps() > interval) {
      problems.add(lostSteps() + " steps lost, more than the " + interval + " this fault allows");
    }
    if (!identicalWeights) {
      problems.add("final weights differ from the uninterrupted run's");
    }
    return problems;
  }
}
