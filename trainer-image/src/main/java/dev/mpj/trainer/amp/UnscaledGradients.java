package dev.mpj.trainer.amp;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What {@link LossScaler#unscale} found: the gradients as backward left them ({@code scaled}), the
 * factor that unscales them ({@code inverseScale}, applied piece by piece where the update makes
 * each piece's FP32 gradient), their unscaled global L2 {@code norm}, and whether any element was
 * inf or NaN ({@code nonFinite}; the norm is meaningless then), and the values read back with them
 * ({@code alongside}, see {@link LossScaler#unscale(List, List)}).
 */
public record UnscaledGradients(
    List<NDArray> scaled, double inverseScale, double norm, boolean nonFinite, float[] alongside) {}
