package dev.mpj.trainer.collective;

/** What an all-reduce computes from every replica's buffer. */
public enum Reduction {
  SUM,
  /**
   * The sum divided by the number of replicas, in FP32, before the one rounding to the element
   * type.
   */
  MEAN
}
