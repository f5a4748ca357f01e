package dev.mpj.trainer.loop;

/** Validation loss of the FP16 working weights against the FP32 master weights, at one step. */
public record ParityCheck(
    long step, double fp16Loss, double fp32Loss, double relativeGap, boolean withinBound) {

  public static ParityCheck of(long step, double fp16Loss, double fp32Loss, double maxRelativeGap) {
    double gap = Math.abs(fp16Loss - fp32Loss) / Math.max(Math.abs(fp32Loss), 1e-12);
    return new ParityCheck(step, fp16Loss, fp32Loss, gap, gap <= maxRelativeGap);
  }
}
