package dev.mpj.trainer.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.mpj.api.CheckpointSpec;
import dev.mpj.trainer.checkpoint.CheckpointWriter;
import dev.mpj.trainer.checkpoint.ModelConfigHash;
import dev.mpj.trainer.checkpoint.Snapshot;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj-trainer bench checkpoint}: checkpoint write throughput against the disk's sequential
 * write speed (the same bytes, fsync'd, in the same folder, in the same run), and what background
 * checkpointing costs the step loop against checkpointing off. Blocks of {@code --intervals} steps
 * alternate between off and on; an "on" block is one checkpoint (snapshot on the loop's thread,
 * write in the background) plus its steps, plus any wait for the write at the block's end: the cost
 * of one checkpoint per interval.
 */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    description =
        "Checkpoint write throughput against the disk's fsync'd sequential write; step-time overhead of background checkpointing.")
public final class CheckpointBenchCommand implements Callable<Integer> {

  @Option(
      names = "--dir",
      description = "Folder to write checkpoints in (default: a new folder in java.io.tmpdir).")
  Path dir;

  @Option(
      names = "--features",
      defaultValue = "1024",
      description = "Input features (default: ${DEFAULT-VALUE}).")
  int features;

  @Option(
      names = "--hidden",
      defaultValue = "[4096, 4096, 2048]",
      description = "MLP hidden sizes (default: ${DEFAULT-VALUE}).")
  String hidden;

  @Option(
      names = "--batch",
      defaultValue = "32",
      description = "Global batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--intervals",
      split = ",",
      defaultValue = "5,100",
      description =
          "Steps per block, i.e. per checkpoint, one overhead table each (default: ${DEFAULT-VALUE}:"
              + " an aggressive interval and the default spec.checkpoint.intervalSteps).")
  List<Integer> intervals;

  @Option(
      names = "--blocks",
      defaultValue = "6",
      description = "Blocks of each kind, off and on alternating (default: ${DEFAULT-VALUE}).")
  int blocks;

  @Option(
      names = "--repeats",
      defaultValue = "3",
      description = "Repeats of each write-speed measurement (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Override
  public Integer call() throws Exception {
    Path folder =
        dir != null
            ? Files.createDirectories(dir)
            : Files.createTempDirectory("mpj-checkpoint-bench");
    try (TrainingSession session =
        TrainerBench.session(TrainerBench.mlpJob("fp32", features, hidden, 10, batch, 1_000_000))) {
      String hash = ModelConfigHash.of(session.config(), session.trainData());
      for (int i = 0; i < 2; i++) {
        session.runStep();
      }
      Snapshot first = Snapshot.of(session, hash);
      long bytes = first.bytes();
      System.out.printf(
          Locale.ROOT,
          "mpj-trainer bench checkpoint: mlp %d-%s-10, fp32, Adam, batch %d; libtorch threads %s; cpus %d, load average %.1f; folder %s%n",
          features,
          hidden,
          batch,
          System.getProperty("ai.djl.pytorch.num_threads", "default"),
          Runtime.getRuntime().availableProcessors(),
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
          folder);
      System.out.printf(
          Locale.ROOT,
          "master weights %.1f MB FP32, checkpoint (weights + Adam m, v) %.1f MB%n%n",
          weightBytes(first) / 1e6,
          bytes / 1e6);

      // 1. Throughput: checkpoints written with the loop idle, against raw fsync'd writes of as
      // many bytes, through the page cache and with O_DIRECT; interleaved and repeated, the median
      // of each (the page cache and other work on the disk vary). The ratio is against the fastest
      // probe: the disk's speed, however it is reached.
      double[][] probes = new double[4][repeats];
      String[] probeNames = {
        "disk: FileChannel 16 MiB writes + fsync",
        "disk: FileChannel O_DIRECT 16 MiB writes + fsync",
        "disk: dd if=/dev/zero bs=4M conv=fsync",
        "disk: dd if=/dev/zero bs=4M oflag=direct conv=fsync"
      };
      double[] alone = new double[repeats];
      boolean direct = false;
      for (int r = 0; r < repeats; r++) {
        probes[0][r] = sequentialWrite(folder.resolve("disk-probe"), bytes, false);
        probes[1][r] = sequentialWrite(folder.resolve("disk-probe"), bytes, true);
        probes[2][r] = orNaN(ddWrite(folder.resolve("dd-probe"), bytes, false));
        probes[3][r] = orNaN(ddWrite(folder.resolve("dd-probe"), bytes, true));
        CheckpointWriter.WriteReport report = CheckpointWriter.write(folder, first, 1);
        alone[r] = report.writeSeconds();
        direct = report.direct();
        CheckpointWriter.deleteTree(folder.resolve(CheckpointWriter.folderName(first.step())));
      }
      double diskSeconds = Double.POSITIVE_INFINITY;
      for (double[] probe : probes) {
        double median = TrainerBench.median(probe);
        if (!Double.isNaN(median)) {
          diskSeconds = Math.min(diskSeconds, median);
        }
      }
      System.out.printf(
          Locale.ROOT,
          "write speed, median of %d interleaved repeats; ratio against the fastest disk probe%n",
          repeats);
      System.out.println("| write | MB | seconds | MB/s | against the fastest disk probe |");
      System.out.println("|---|---:|---:|---:|---:|");
      for (int i = 0; i < probes.length; i++) {
        double median = TrainerBench.median(probes[i]);
        if (!Double.isNaN(median)) {
          row(probeNames[i], bytes, median, diskSeconds);
        }
      }
      row(
          "checkpoint, loop idle (2 files + state.json, "
              + (direct ? "O_DIRECT" : "page cache")
              + ", CRC32C beside, fsyncs, renames, latest)",
          bytes,
          TrainerBench.median(alone),
          diskSeconds);
      System.out.println();

      for (int interval : intervals) {
        overhead(session, hash, folder, interval, diskSeconds);
      }
    } finally {
      if (dir == null) {
        CheckpointWriter.deleteTree(folder);
      }
    }
    return 0;
  }

  /**
   * Blocks of {@code interval} steps without a checkpoint, with one written by a writer at the
   * lowest priority, and with one at normal priority (what the trainer does), in turn.
   */
  private void overhead(
      TrainingSession session, String hash, Path folder, int interval, double diskSeconds)
      throws IOException {
    double[] off = new double[blocks];
    double[] on = new double[blocks];
    double[] onNormal = new double[blocks];
    double[] snapshot = new double[1];
    double[] waited = new double[1];
    // Per kind of block: seconds of its first EARLY_STEPS steps, and of the others, summed.
    double[][] splits = new double[3][2];
    List<CheckpointWriter.WriteReport> writes = new ArrayList<>();
    String priority;
    Snapshot[] lowMemory = new Snapshot[1];
    Snapshot[] normalMemory = new Snapshot[1];
    try (CheckpointWriter writer = new CheckpointWriter(folder, 2, true);
        CheckpointWriter normal = new CheckpointWriter(folder, 2)) {
      priority = writer.priority();
      for (int b = 0; b < blocks; b++) {
        long t0 = System.nanoTime();
        runSteps(session, interval, splits[0]);
        off[b] = (System.nanoTime() - t0) / 1e9 / interval;
        on[b] =
            blockWithCheckpoint(
                session, hash, interval, writer, lowMemory, snapshot, waited, splits[1]);
        writes.addAll(writer.drainFinished());
        onNormal[b] =
            blockWithCheckpoint(
                session, hash, interval, normal, normalMemory, snapshot, new double[1], splits[2]);
        writes.addAll(normal.drainFinished());
      }
    }
    System.out.printf(
        Locale.ROOT,
        "checkpoints written in the background while the loop ran (interval %d)%n",
        interval);
    System.out.println("| write | MB | seconds | MB/s | against the fastest disk probe |");
    System.out.println("|---|---:|---:|---:|---:|");
    for (CheckpointWriter.WriteReport w : writes) {
      row("checkpoint, background, step " + w.step(), w.bytes(), w.writeSeconds(), diskSeconds);
    }
    double meanOff = mean(off);
    double meanOn = mean(on);
    double meanNormal = mean(onNormal);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "step time, %d rounds of 3 blocks of %d steps each (off, on at lowest priority, on at normal"
            + " priority; mean of blocks, median in brackets); writer thread: %s%n",
        blocks,
        interval,
        priority);
    System.out.println("| checkpointing | ms per step | overhead |");
    System.out.println("|---|---:|---:|");
    System.out.printf(
        Locale.ROOT, "| off | %.1f (%.1f) | |%n", meanOff * 1e3, TrainerBench.median(off) * 1e3);
    System.out.printf(
        Locale.ROOT,
        "| on, one checkpoint every %d steps, writer at lowest priority | %.1f (%.1f) | %+.1f %% |%n",
        interval,
        meanOn * 1e3,
        TrainerBench.median(on) * 1e3,
        100 * (meanOn - meanOff) / meanOff);
    System.out.printf(
        Locale.ROOT,
        "| on, one checkpoint every %d steps, writer at normal priority (the trainer's) | %.1f (%.1f)"
            + " | %+.1f %% |%n",
        interval,
        meanNormal * 1e3,
        TrainerBench.median(onNormal) * 1e3,
        100 * (meanNormal - meanOff) / meanOff);
    double perCheckpoint = (meanNormal - meanOff) * interval;
    int defaultInterval = new CheckpointSpec().intervalSteps;
    if (interval != defaultInterval) {
      System.out.printf(
          Locale.ROOT,
          "| projected: one every %d steps (the default), normal priority: %.3f s extra per"
              + " checkpoint over %d steps | | %+.1f %% |%n",
          defaultInterval,
          perCheckpoint,
          defaultInterval,
          100 * perCheckpoint / (defaultInterval * meanOff));
    }
    int early = Math.min(EARLY_STEPS, interval);
    System.out.printf(
        Locale.ROOT,
        "ms per step in the first %d steps of a block (while the write runs) and in the other %d:"
            + " off %.1f / %.1f, lowest priority %.1f / %.1f, normal priority %.1f / %.1f%n",
        early,
        interval - early,
        splits[0][0] * 1e3 / (blocks * early),
        splits[0][1] * 1e3 / Math.max(1, blocks * (interval - early)),
        splits[1][0] * 1e3 / (blocks * early),
        splits[1][1] * 1e3 / Math.max(1, blocks * (interval - early)),
        splits[2][0] * 1e3 / (blocks * early),
        splits[2][1] * 1e3 / Math.max(1, blocks * (interval - early)));
    System.out.printf(
        Locale.ROOT,
        "per checkpoint: snapshot into the file images %.3f s on the loop, loop waited for the"
            + " lowest-priority writer %.3f s%n%n",
        snapshot[0] / (2 * blocks),
        waited[0] / blocks);
  }

  /**
   * Seconds per step of {@code interval} steps after a snapshot handed to {@code writer}; the
   * snapshot reuses the memory of the writer's previous one, as the trainer's does.
   */
  private static double blockWithCheckpoint(
      TrainingSession session,
      String hash,
      int interval,
      CheckpointWriter writer,
      Snapshot[] memory,
      double[] snapshotSeconds,
      double[] waitedSeconds,
      double[] split)
      throws IOException {
    long t0 = System.nanoTime();
    waitedSeconds[0] += writer.await();
    long s0 = System.nanoTime();
    Snapshot s = Snapshot.of(session, hash, memory[0]);
    memory[0] = s;
    snapshotSeconds[0] += (System.nanoTime() - s0) / 1e9;
    writer.submit(s);
    runSteps(session, interval, split);
    waitedSeconds[0] += writer.await();
    return (System.nanoTime() - t0) / 1e9 / interval;
  }

  /** Steps told apart in each block: the write of a checkpoint runs in them. */
  static final int EARLY_STEPS = 10;

  /**
   * Runs {@code steps} steps; adds the seconds of the first {@link #EARLY_STEPS} to split[0], of
   * the rest to split[1].
   */
  private static void runSteps(TrainingSession session, int steps, double[] split) {
    long t0 = System.nanoTime();
    long boundary = t0;
    for (int i = 0; i < steps; i++) {
      if (i == EARLY_STEPS) {
        boundary = System.nanoTime();
      }
      session.runStep();
    }
    long end = System.nanoTime();
    if (steps <= EARLY_STEPS) {
      boundary = end;
    }
    split[0] += (boundary - t0) / 1e9;
    split[1] += (end - boundary) / 1e9;
  }

  private static double orNaN(Double seconds) {
    return seconds == null ? Double.NaN : seconds;
  }

  private static void row(String what, long bytes, double seconds, double diskSeconds) {
    System.out.printf(
        Locale.ROOT,
        "| %s | %.1f | %.3f | %.0f | %.0f %% |%n",
        what,
        bytes / 1e6,
        seconds,
        bytes / 1e6 / seconds,
        100 * diskSeconds / seconds);
  }

  private static long weightBytes(Snapshot s) {
    return s.model().dataBytes();
  }

  /**
   * Seconds to write {@code bytes} to a new file in 16 MiB writes from direct memory and fsync it,
   * with {@code O_DIRECT} when {@code direct} (NaN where the file system refuses it).
   */
  static double sequentialWrite(Path file, long bytes, boolean direct) throws IOException {
    int chunkBytes = 16 << 20;
    ByteBuffer chunk = ByteBuffer.allocateDirect(chunkBytes + 4096).alignedSlice(4096);
    byte[] random = new byte[chunkBytes];
    new Random(0).nextBytes(random);
    chunk.put(random).clear();
    long rounded = (bytes + 4095) / 4096 * 4096; // O_DIRECT writes whole blocks
    long start = System.nanoTime();
    FileChannel channel;
    try {
      channel =
          direct
              ? FileChannel.open(
                  file,
                  StandardOpenOption.CREATE_NEW,
                  StandardOpenOption.WRITE,
                  ExtendedOpenOption.DIRECT)
              : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException | UnsupportedOperationException e) {
      Files.deleteIfExists(file);
      return Double.NaN;
    }
    try (channel) {
      for (long left = direct ? rounded : bytes; left > 0; ) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), left));
        left -= chunk.remaining();
        while (chunk.hasRemaining()) {
          channel.write(chunk);
        }
      }
      channel.force(true);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Files.delete(file);
    return seconds;
  }

  /**
   * Seconds {@code dd conv=fsync} (with {@code oflag=direct} when {@code direct}) takes for the
   * same bytes, or null where there is no dd or it fails.
   */
  static Double ddWrite(Path file, long bytes, boolean direct) {
    try {
      List<String> command = new ArrayList<>();
      command.addAll(
          List.of(
              "dd",
              "if=/dev/zero",
              "of=" + file,
              "bs=4M",
              "count=" + ((bytes + (4 << 20) - 1) / (4 << 20)),
              "conv=fsync"));
      if (direct) {
        command.add("oflag=direct");
      }
      long start = System.nanoTime();
      Process dd =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      int exit = dd.waitFor();
      double seconds = (System.nanoTime() - start) / 1e9;
      Files.deleteIfExists(file);
      return exit == 0 ? seconds : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static double mean(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }
}
