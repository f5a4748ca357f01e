package dev.mpj.trainer.checkpoint;

import dev.mpj.api.CheckpointSpec;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Hangs off the loop and decides when to checkpoint: every {@code intervalSteps}, every {@code
 * intervalSeconds} when set, at the last step, and after the step in which SIGTERM arrived (then it
 * waits for the write and stops the loop once the step's other listeners have run). The snapshot is
 * taken on the loop's thread; the write runs in the background, one at a time: the loop waits only
 * when the previous write is still running.
 *
 * <p>Register it before the metrics writer: {@link #metricsFor} reports the step it just handled.
 */
public final class CheckpointListener implements TrainingListener {
  private final TrainingSession session;
  private final CheckpointWriter writer;
  private final CheckpointSchedule schedule;
  private final String modelConfigSha256;
  private final PreemptionHandler preemption;
  private long lastCheckpointStep;
  private long lastCheckpointNanos = System.nanoTime();
  private Map<String, Object> current;
  private int written;
  private long bytesWritten;
  private double writeSeconds;
  private double waitSeconds;
  private double snapshotSeconds;
  private Consumer<CheckpointWriter.WriteReport> published = w -> {};
  private Consumer<CheckpointWriter.Failed> failedListener = f -> {};
  private int failed;

  /** The last snapshot handed to the writer: its memory is reused once its write has finished. */
  private Snapshot previous;

  public CheckpointListener(
      TrainingSession session,
      CheckpointWriter writer,
      CheckpointSpec spec,
      String modelConfigSha256,
      PreemptionHandler preemption) {
    this.session = session;
    this.writer = writer;
    CheckpointSpec s = spec != null ? spec : new CheckpointSpec();
    this.schedule =
        new CheckpointSchedule(s.intervalSteps, s.intervalSeconds, session.totalSteps());
    this.modelConfigSha256 = modelConfigSha256;
    this.preemption = preemption;
    this.lastCheckpointStep = session.step();
  }

  /** Called (on the training thread) for every checkpoint once it is published. */
  public void onPublished(Consumer<CheckpointWriter.WriteReport> listener) {
    this.published = listener;
  }

  /**
   * Called (on the training thread) for every checkpoint not written for want of space, after the
   * line on stderr that says so.
   */
  public void onFailed(Consumer<CheckpointWriter.Failed> listener) {
    this.failedListener = listener;
  }

  @Override
  public void onStep(StepResult result) {
    long step = result.step();
    current = new LinkedHashMap<>();
    collectFinished();
    boolean preempted = preemption != null && preemption.requested();
    if ((due(step) || preempted) && step != lastCheckpointStep) {
      checkpoint(step);
    }
    if (preempted) {
      try {
        waitSeconds += writer.await();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      collectFinished();
      session.stopAfterThisStep(new PreemptedException(step));
    }
  }

  private boolean due(long step) {
    return schedule.due(step, (System.nanoTime() - lastCheckpointNanos) / 1e9);
  }

  private void checkpoint(long step) {
    double waited;
    Snapshot snapshot;
    double snapshotTook;
    try {
      // Wait first, then copy: one snapshot in host memory at a time, the same memory every time.
      waited = writer.await();
      long start = System.nanoTime();
      snapshot = Snapshot.of(session, modelConfigSha256, previous);
      previous = snapshot;
      snapshotTook = (System.nanoTime() - start) / 1e9;
      writer.submit(snapshot);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    lastCheckpointStep = step;
    lastCheckpointNanos = System.nanoTime();
    snapshotSeconds += snapshotTook;
    waitSeconds += waited;
    Map<String, Object> started = new LinkedHashMap<>();
    started.put("folder", CheckpointWriter.folderName(step));
    started.put("bytes", snapshot.bytes());
    started.put("snapshotSeconds", snapshotTook);
    started.put("waitSeconds", waited);
    current.put("checkpoint", started);
  }

  private void collectFinished() {
    List<CheckpointWriter.WriteReport> finished = writer.drainFinished();
    finished.forEach(this::count);
    if (!finished.isEmpty()) {
      CheckpointWriter.WriteReport w = finished.get(finished.size() - 1);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("folder", CheckpointWriter.folderName(w.step()));
      m.put("bytes", w.bytes());
      m.put("writeSeconds", w.writeSeconds());
      m.put("megabytesPerSecond", w.bytes() / 1e6 / Math.max(w.writeSeconds(), 1e-9));
      current.put("checkpointWritten", m);
    }
    for (CheckpointWriter.Failed f : writer.drainFailed()) {
      noteFailed(f);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("folder", CheckpointWriter.folderName(f.step()));
      m.put("reason", f.reason());
      current.put("checkpointFailed", m);
    }
  }

  private void noteFailed(CheckpointWriter.Failed f) {
    failed++;
    CheckpointWriter.Published newest = writer.lastPublished();
    System.err.printf(
        "mpj-trainer: checkpoint %s not written: %s; training goes on, the newest checkpoint is %s%n",
        CheckpointWriter.folderName(f.step()),
        f.reason(),
        newest == null ? "the one resumed from, if any" : newest.path().getFileName());
    failedListener.accept(f);
  }

  private void count(CheckpointWriter.WriteReport w) {
    written++;
    bytesWritten += w.bytes();
    writeSeconds += w.writeSeconds();
    published.accept(w);
  }

  /** What metrics.jsonl reports about checkpoints in the line of {@code step}. */
  public Map<String, Object> metricsFor(long step) {
    return step == session.step() && current != null ? current : Map.of();
  }

  /**
   * Totals for summary.json; call after {@link CheckpointWriter#close}, i.e. when every write is
   * done.
   */
  public Map<String, Object> totals(Resume resume) {
    writer.drainFinished().forEach(this::count);
    writer.drainFailed().forEach(this::noteFailed);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("folder", writer.folder().toString());
    m.put("written", written);
    m.put("failedForSpace", failed);
    m.put("bytesWritten", bytesWritten);
    m.put("writeSeconds", writeSeconds);
    m.put("snapshotSeconds", snapshotSeconds);
    m.put("loopWaitSeconds", waitSeconds);
    m.put(
        "resumedFrom",
        resume.checkpoint() == null ? null : resume.checkpoint().getFileName().toString());
    m.put("damagedSkipped", resume.damaged());
    return m;
  }
}
