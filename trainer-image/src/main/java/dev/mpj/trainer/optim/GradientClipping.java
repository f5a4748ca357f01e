package dev.mpj.trainer.optim;

/**
 * Clipping by the global L2 norm, PyTorch's {@code clip_grad_norm_} rule: gradients whose norm is
 * above {@code maxNorm} are scaled by {@code maxNorm / (norm + 1e-6)}. {@code maxNorm} null or not
 * above 0 turns clipping off.
 */
public record GradientClipping(Double maxNorm) {

  /** The factor to multiply gradients of global norm {@code norm} by: 1 when none is needed. */
  public double factor(double norm) {
    if (maxNorm == null || maxNorm <= 0 || norm <= maxNorm) {
      return 1.0;
    }
    return (float) (maxNorm / (norm + 1e-6));
  }
}
