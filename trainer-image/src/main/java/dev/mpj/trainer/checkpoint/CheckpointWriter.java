package dev.mpj.trainer.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Publishes checkpoints atomically, one at a time, on a background thread. A checkpoint is written
 * into {@code .tmp-step-N/}, every file and the folder are forced to the disk, the folder is
 * renamed to {@code step-NNNNNNNN/}, and then {@code latest} is replaced (temporary file, rename)
 * to name it. A crash at any point leaves either the previous checkpoint or the new one complete;
 * the reader never trusts a folder whose checksums do not match its state.json.
 */
public final class CheckpointWriter implements AutoCloseable {
  public static final String LATEST = "latest";
  public static final String MODEL = "model.safetensors";
  public static final String OPTIMIZER = "optimizer.safetensors";
  private static final String TEMPORARY_PREFIX = ".tmp-";

  private final Path folder;
  private final int keep;
  private final ExecutorService thread;
  private final List<WriteReport> finished = new ArrayList<>();
  private final List<Failed> failed = new ArrayList<>();
  private final DiskFullFault fault;
  private Future<WriteReport> inFlight;
  private volatile Published lastPublished;
  private final Future<String> priority;

  /** The newest checkpoint this writer published: what /progress can report as lastCheckpoint. */
  public record Published(long step, Instant time, Path path) {}

  /**
   * How long one checkpoint took to write (files, fsync, renames, retention), how big it is, and
   * whether its files went to the disk with {@code O_DIRECT} (else through the page cache).
   */
  public record WriteReport(long step, long bytes, double writeSeconds, boolean direct) {}

  /**
   * A checkpoint that was not written because the volume was full: nothing of it is left, the
   * checkpoints before it stay the newest, and training goes on (the next one is tried as usual).
   */
  public record Failed(long step, String reason) {}

  public CheckpointWriter(Path folder, int keep) throws IOException {
    this(folder, keep, false);
  }

  /**
   * @param lowerPriority true runs the writer at the lowest CPU and I/O priority. Not the default:
   *     on a machine whose cores the loop keeps busy the writer then gets almost no CPU, and a
   *     checkpoint is published only when the loop next waits for it (ResumeAfterKillTest found no
   *     checkpoint published when it killed the trainer). The benchmark compares both.
   */
  public CheckpointWriter(Path folder, int keep, boolean lowerPriority) throws IOException {
    this(folder, keep, lowerPriority, DiskFullFault.fromSystemProperty());
  }

  /** As {@link #CheckpointWriter(Path, int, boolean)}, on a volume that {@code fault} may fill. */
  CheckpointWriter(Path folder, int keep, boolean lowerPriority, DiskFullFault fault)
      throws IOException {
    this.fault = fault;
    this.folder = folder;
    this.keep = keep;
    Files.createDirectories(folder);
    try (var leftovers = Files.list(folder)) {
      for (Path p :
          leftovers.filter(p -> p.getFileName().toString().startsWith(TEMPORARY_PREFIX)).toList()) {
        deleteTree(p); // an interrupted write: never published, never read
      }
    }
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "checkpoint-writer");
              t.setDaemon(true);
              return t;
            });
    // First task of the thread: later writes run at its lowered priority.
    this.priority =
        thread.submit(lowerPriority ? WriterPriority::lowerCurrentThread : () -> "normal priority");
  }

  /** The writer thread's priority, as lowered when it started (for the log). */
  public String priority() {
    try {
      return priority.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown (interrupted)";
    } catch (ExecutionException e) {
      return "normal priority (" + e.getCause() + ")";
    }
  }

  public Path folder() {
    return folder;
  }

  /**
   * Starts writing {@code snapshot} in the background after the write in flight, if any, has
   * finished; returns the seconds the caller waited for it. A failed earlier write is thrown here.
   */
  public double submit(Snapshot snapshot) throws IOException {
    double waited = await();
    inFlight =
        thread.submit(
            () -> {
              WriteReport report;
              try {
                report = write(folder, snapshot, keep, fault);
              } catch (IOException e) {
                if (!outOfSpace(e)) {
                  throw e;
                }
                synchronized (failed) {
                  failed.add(new Failed(snapshot.step(), e.getMessage()));
                }
                return null;
              }
              lastPublished =
                  new Published(
                      report.step(), Instant.now(), folder.resolve(folderName(report.step())));
              return report;
            });
    return waited;
  }

  /** The newest checkpoint published by this writer, or null before the first. */
  public Published lastPublished() {
    return lastPublished;
  }

  /** Waits for the write in flight; returns the seconds waited. */
  public double await() throws IOException {
    if (inFlight == null) {
      return 0;
    }
    long start = System.nanoTime();
    try {
      WriteReport report = inFlight.get();
      if (report != null) {
        synchronized (finished) {
          finished.add(report);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for a checkpoint write", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io
          ? io
          : new IOException("checkpoint write failed: " + cause, cause);
    } finally {
      inFlight = null;
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /** Writes that finished since the last call (collected without waiting). */
  public List<WriteReport> drainFinished() {
    collectDone();
    synchronized (finished) {
      List<WriteReport> out = List.copyOf(finished);
      finished.clear();
      return out;
    }
  }

  private void collectDone() {
    if (inFlight != null && inFlight.isDone()) {
      try {
        await();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Checkpoints not written for want of space since the last call (collected without waiting). */
  public List<Failed> drainFailed() {
    collectDone();
    synchronized (failed) {
      List<Failed> out = List.copyOf(failed);
      failed.clear();
      return out;
    }
  }

  /**
   * Whether {@code e} (or a cause) is the volume running out of space or quota: ENOSPC or EDQUOT,
   * which the JDK reports with the kernel's message. Any other failure of a write stops the run.
   */
  static boolean outOfSpace(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null
          && (message.contains(DiskFullFault.NO_SPACE)
              || message.contains("Disk quota exceeded"))) {
        return true;
      }
    }
    return false;
  }

  /** The folder name of the checkpoint of {@code step}. */
  public static String folderName(long step) {
    return String.format("step-%08d", step);
  }

  /** Writes and publishes one checkpoint now, on the caller's thread. */
  public static WriteReport write(Path folder, Snapshot snapshot, int keep) throws IOException {
    return write(folder, snapshot, keep, DiskFullFault.none());
  }

  /**
   * {@link #write(Path, Snapshot, int)} on a volume that {@code fault} may fill. A write that fails
   * removes its temporary folder (its space is given back) and leaves the checkpoints published
   * before it, and {@code latest}, as they were.
   */
  static WriteReport write(Path folder, Snapshot snapshot, int keep, DiskFullFault fault)
      throws IOException {
    Path temporary = folder.resolve(TEMPORARY_PREFIX + folderName(snapshot.step()));
    try {
      return writeUnchecked(folder, snapshot, keep, fault.spaceFor(snapshot.step()));
    } catch (IOException | RuntimeException e) {
      try {
        deleteTree(temporary);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private static WriteReport writeUnchecked(
      Path folder, Snapshot snapshot, int keep, DiskFullFault.Space space) throws IOException {
    long start = System.nanoTime();
    String name = folderName(snapshot.step());
    Path temporary = folder.resolve(TEMPORARY_PREFIX + name);
    if (Files.exists(temporary)) {
      deleteTree(temporary);
    }
    Files.createDirectories(temporary);
    // Both checksums start now, on their own thread, and run while the files go to the disk.
    Future<String> modelChecksum = snapshot.model().image().checksumInBackground();
    Future<String> optimizerChecksum = snapshot.optimizer().image().checksumInBackground();
    FileImage.Written model;
    FileImage.Written optimizer;
    try {
      model =
          snapshot.model().image().writeNew(temporary.resolve(MODEL), modelChecksum, true, space);
      KillDuringWrite.maybeHalt(folder, snapshot.step());
      optimizer =
          snapshot
              .optimizer()
              .image()
              .writeNew(temporary.resolve(OPTIMIZER), optimizerChecksum, true, space);
    } finally {
      modelChecksum.cancel(false);
      optimizerChecksum.cancel(false);
    }
    Map<String, String> files = new LinkedHashMap<>();
    files.put(MODEL, model.crc32c());
    files.put(OPTIMIZER, optimizer.crc32c());
    CheckpointState s = snapshot.state();
    CheckpointState state =
        new CheckpointState(
            CheckpointState.FORMAT,
            s.step(),
            s.skippedSteps(),
            s.optimizerUpdates(),
            s.epoch(),
            s.dataIndex(),
            s.rng(),
            s.lossScaler(),
            s.precision(),
            s.modelConfigSha256(),
            files);
    byte[] json = state.toJson();
    if (space.isFull(json.length)) {
      throw space.full(temporary.resolve(CheckpointState.FILE));
    }
    writeForced(temporary.resolve(CheckpointState.FILE), json);
    forceFolder(temporary);
    Path target = folder.resolve(name);
    if (Files.exists(target)) {
      deleteTree(
          target); // the same step written again (a resumed run that stopped there): same content
    }
    Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
    forceFolder(folder);
    Path latestTemporary = folder.resolve(TEMPORARY_PREFIX + LATEST);
    Files.deleteIfExists(latestTemporary);
    writeForced(latestTemporary, (name + "\n").getBytes(StandardCharsets.UTF_8));
    Files.move(
        latestTemporary,
        folder.resolve(LATEST),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    forceFolder(folder);
    removeOld(folder, keep);
    return new WriteReport(
        snapshot.step(),
        model.bytes() + optimizer.bytes() + json.length,
        (System.nanoTime() - start) / 1e9,
        model.direct() && optimizer.direct());
  }

  /** Deletes all but the newest {@code keep} checkpoints, never the one {@code latest} names. */
  static void removeOld(Path folder, int keep) throws IOException {
    String latest = CheckpointReader.latestName(folder);
    List<Path> newestFirst = CheckpointReader.checkpointFolders(folder);
    for (int i = keep; i < newestFirst.size(); i++) {
      Path old = newestFirst.get(i);
      if (!old.getFileName().toString().equals(latest)) {
        deleteTree(old);
      }
    }
  }

  private static void writeForced(Path file, byte[] bytes) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      var buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
  }

  /** fsync of a folder makes the names in it (a rename, a new file) durable. */
  private static void forceFolder(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Deletes {@code root} and everything under it. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Waits for the write in flight and stops the thread. */
  @Override
  public void close() throws IOException {
    try {
      await();
    } finally {
      thread.shutdown();
    }
  }
}
