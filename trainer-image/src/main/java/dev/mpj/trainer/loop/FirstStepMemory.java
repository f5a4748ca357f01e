package dev.mpj.trainer.loop;

/**
 * The first step of a process against the ones after it, resident memory in bytes; -1 where it
 * could not be measured (not Linux, or a run of one step for the later ones).
 *
 * @param peakBytes the high-water mark during the first step
 * @param fileBytesAdded what the first step added to resident memory mapped from files (RssFile):
 *     libtorch's code, paged in as its operations first run
 * @param rssAfterBytes resident memory right after the first step: the set-up, the gradients and
 *     that code; the later steps are measured from here
 * @param laterPeakBytes the high-water mark of the steps after the first
 * @param laterFileBytesAdded what the steps after the first added to resident memory mapped from
 *     files: the code of operations they ran first (an FP16-mixed first step that overflows skips
 *     the update, whose code then pages in during the second)
 */
public record FirstStepMemory(
    long peakBytes,
    long fileBytesAdded,
    long rssAfterBytes,
    long laterPeakBytes,
    long laterFileBytesAdded) {
  public static final FirstStepMemory UNKNOWN = new FirstStepMemory(-1, -1, -1, -1, -1);
}
