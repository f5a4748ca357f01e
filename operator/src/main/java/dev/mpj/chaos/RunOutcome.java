package dev.mpj.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * What one chaos run must show, judged from what it left: the job Succeeded; the restarts its fault
 * calls for; one pod per rank and attempt; for a fault that restarts the gang, a resume that lost
 * nothing the checkpointing had made durable ({@link Resume}); final weights equal, byte for byte,
 * to the uninterrupted run's. A pure function of the facts.
 *
 * @param phase the job's final phase
 * @param restarts status.restarts
 * @param pods the pods that ran, as {@code <job>-worker-<rank>-attempt-<attempt>}
 * @param expectedPods one per rank in each of the attempts the faults call for
 * @param resume what the resume after the fault shows; null for a fault that restarts nothing
 * @param identicalWeights whether the final checkpoint equals the uninterrupted run's
 */
public record RunOutcome(
    String phase,
    int restarts,
    List<String> pods,
    List<String> expectedPods,
    Resume resume,
    boolean identicalWeights) {

  /**
   * The resume after a fault, against what the checkpointing promised when the fault struck. The
   * trainer writes a checkpoint every {@code interval} steps in the background, and the loop waits
   * for the previous write when the next checkpoint is due: at step L, the checkpoint of {@code
   * floor(L / interval) * interval - interval} is published (renamed into place, durable), the one
   * after it may still be written. So a resume must start from the newest checkpoint published when
   * the fault struck (less the checkpoints the fault itself destroyed), and that one is at most one
   * checkpoint behind the newest that was due: steps redone are under two intervals, plus one per
   * destroyed checkpoint.
   *
   * @param stepAtFault rank 0's newest logged step of attempt 1 when the fault was injected, read
   *     just before {@code publishedAtFault}
   * @param publishedAtFault the newest checkpoint published on the volume then (0: none)
   * @param destroyedCheckpoints published checkpoints the fault itself damaged ({@link
   *     ChaosFault#destroyedCheckpoints})
   * @param lastStep rank 0's last logged step of attempt 1
   * @param resumedFrom the checkpoint step attempt 2 resumed from (0: from the start)
   * @param interval the job's checkpoint interval in steps
   */
  public record Resume(
      long stepAtFault,
      long publishedAtFault,
      int destroyedCheckpoints,
      long lastStep,
      long resumedFrom,
      long interval) {

    /** Steps trained in attempt 1 and trained again in attempt 2. */
    public long lostSteps() {
      return Math.max(0, lastStep - resumedFrom);
    }

    /** The oldest checkpoint the resume may start from: the newest durable one at the fault. */
    public long promised() {
      return Math.max(0, publishedAtFault - destroyedCheckpoints * interval);
    }

    /** The checkpoint that must have been published by {@code stepAtFault}. */
    public long due() {
      return Math.max(0, (stepAtFault / interval) * interval - interval);
    }

    List<String> problems() {
      List<String> problems = new ArrayList<>();
      if (resumedFrom < promised()) {
        problems.add(
            "resumed from "
                + resumedFrom
                + ", behind checkpoint "
                + promised()
                + (destroyedCheckpoints > 0
                    ? " (the newest published at the fault, "
                        + publishedAtFault
                        + ", less the "
                        + destroyedCheckpoints
                        + " the fault destroyed)"
                    : ", the newest published (durable) at the fault")
                + ": "
                + (promised() - resumedFrom)
                + " durable steps lost");
      }
      if (publishedAtFault < due()) {
        problems.add(
            "at step "
                + stepAtFault
                + " the newest published checkpoint was "
                + publishedAtFault
                + ", not "
                + due()
                + " or later: the checkpoint writer lagged more than one interval");
      }
      return problems;
    }
  }

  /** Steps redone after the fault; 0 without a resume. */
  public long lostSteps() {
    return resume == null ? 0 : resume.lostSteps();
  }

  /** What does not hold; empty when the run recovered as it must. */
  public List<String> problems(int faultsNeedingRestart) {
    List<String> problems = new ArrayList<>();
    if (!"Succeeded".equals(phase)) {
      problems.add("phase " + phase + ", not Succeeded");
    }
    if (restarts != faultsNeedingRestart) {
      problems.add(restarts + " restarts for " + faultsNeedingRestart + " fault(s) needing one");
    }
    if (!new TreeSet<>(pods).equals(new TreeSet<>(expectedPods))
        || pods.size() != expectedPods.size()) {
      problems.add("pods " + pods + ", expected one per rank and attempt: " + expectedPods);
    }
    if (resume != null) {
      problems.addAll(resume.problems());
    }
    if (!identicalWeights) {
      problems.add("final weights differ from the uninterrupted run's");
    }
    return problems;
  }
}
