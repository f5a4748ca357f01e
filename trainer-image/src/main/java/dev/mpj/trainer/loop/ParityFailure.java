package dev.mpj.trainer.loop;

/** The FP16 working weights drifted further from the FP32 master weights than the job allows. */
public final class ParityFailure extends RuntimeException {
  private final ParityCheck check;

  public ParityFailure(ParityCheck check, double maxRelativeGap, String field) {
    super(
        String.format(
            "precision parity failed at step %d: validation loss %.6g with FP16 working weights against %.6g with FP32 "
                + "master weights, relative gap %.4g exceeds %s %.4g",
            check.step(),
            check.fp16Loss(),
            check.fp32Loss(),
            check.relativeGap(),
            field,
            maxRelativeGap));
    this.check = check;
  }

  public ParityCheck check() {
    return check;
  }
}
