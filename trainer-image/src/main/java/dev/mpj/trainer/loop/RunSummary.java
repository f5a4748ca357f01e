package dev.mpj.trainer.loop;

/** The end of a run, as summary.json reports it. */
public record RunSummary(
    String precision,
    long steps,
    long skippedSteps,
    double finalLossScale,
    double trainLoss,
    Evaluation validation,
    long parameters,
    long peakRssBytes,
    double wallSeconds,
    Long resumedFromStep,
    ParityCheck parity) {}
