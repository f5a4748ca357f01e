package dev.mpj.trainer.loop;

/**
 * The end of a run, as summary.json reports it. Memory: {@code peakRssBytes} is the process's peak
 * resident memory over the whole run; {@code rssBeforeTrainingBytes} the resident memory after
 * set-up, right before the first step; {@code peakRssTrainingBytes} the peak during the training
 * steps only, -1 where the high-water mark could not be reset: not the final validation, and not
 * what runs between steps (the step listeners: a checkpoint's snapshot is host memory on any
 * device, and it stays resident for the next checkpoint). The first step of a process is also
 * measured on its own, because it adds what later steps do not: the gradients (they stay from step
 * to step) and the code of libtorch's operations, paged in from the library as they first run.
 * {@link #firstStep} has those figures.
 */
public record RunSummary(
    String precision,
    long steps,
    long skippedSteps,
    double finalLossScale,
    double trainLoss,
    Evaluation validation,
    long parameters,
    long peakRssBytes,
    long rssBeforeTrainingBytes,
    long peakRssTrainingBytes,
    FirstStepMemory firstStep,
    double wallSeconds,
    Long resumedFromStep,
    ParityCheck parity) {}
