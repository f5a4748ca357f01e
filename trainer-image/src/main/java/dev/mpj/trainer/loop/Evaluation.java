package dev.mpj.trainer.loop;

/** Mean loss over a split, and accuracy where the task has classes (null for regression). */
public record Evaluation(double loss, Double accuracy) {}
