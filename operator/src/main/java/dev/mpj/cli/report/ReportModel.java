package dev.mpj.cli.report;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.SizingStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * What the report shows: the job (name, phase, message), the FP32 reference run and the job's own
 * run (either may be missing), the sizing (memory per replica, GPUs saved) and the reference parity
 * verdict.
 *
 * @param job the job with its status, or null when the report is made from output folders only
 */
public record ReportModel(
    String title, MixedPrecisionJob job, RunData reference, RunData candidate) {

  /** The runs that are there, the reference first. */
  public List<RunData> runs() {
    List<RunData> runs = new ArrayList<>();
    if (reference != null) {
      runs.add(reference);
    }
    if (candidate != null) {
      runs.add(candidate);
    }
    return runs;
  }

  /** The sizing from the job's status, or null. */
  public SizingStatus sizing() {
    return job == null || job.getStatus() == null ? null : job.getStatus().sizing;
  }

  /**
   * The reference parity verdict: the job's status, else the job run's reference-parity.json (which
   * holds the comparison once the run reached the step).
   */
  public ReferenceParityStatus parity() {
    if (job != null
        && job.getStatus() != null
        && job.getStatus().parity != null
        && job.getStatus().parity.reference != null) {
      return job.getStatus().parity.reference;
    }
    return candidate == null ? null : candidate.referenceParity();
  }

  /** The run's figures at the compared step, or null. */
  public ParityPoint parityPoint(RunData run) {
    ReferenceParityStatus p = parity();
    if (p == null) {
      ReferenceParityStatus own = run.referenceParity();
      return own == null ? null : own.reference != null ? own.reference : own.candidate;
    }
    return run == reference ? p.reference : p.candidate;
  }
}
