package dev.mpj.trainer.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.mpj.api.CheckpointSpec;
import dev.mpj.trainer.checkpoint.CheckpointWriter;
import dev.mpj.trainer.checkpoint.ModelConfigHash;
import dev.mpj.trainer.checkpoint.Snapshot;
import dev.mpj.trainer.loop.TrainingSession;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mpj-trainer bench checkpoint}: checkpoint write throughput against the disk's sequential
 * write speed (the same bytes, fsync'd, in the same folder, in the same run), and what background
 * checkpointing costs the step loop against checkpointing off. Blocks of {@code --intervals} steps
 * alternate between off and on, starting and ending with off; an "on" block is one checkpoint
 * (snapshot on the loop's thread, write in the background) plus its steps, plus any wait for the
 * write at the block's end: the cost of one checkpoint per interval. Each "on" block is compared
 * with the mean of the "off" blocks on either side, and the median of those ratios is the overhead:
 * on a shared machine the load drifts between blocks, and a bracketed ratio follows the drift.
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
      description =
          "Blocks with a checkpoint per interval and writer priority, each between two blocks"
              + " without (off, on, off, ..., on, off); the overhead is the median over them"
              + " (default: ${DEFAULT-VALUE}).")
  int blocks;

  @Option(
      names = "--writer-priorities",
      split = ",",
      defaultValue = "normal",
      description =
          "Writer threads to measure: normal (the trainer's), lowest (nice 19, best-effort I/O"
              + " level 7), or both (default: ${DEFAULT-VALUE}).")
  List<String> writerPriorities;

  @Option(
      names = "--repeats",
      defaultValue = "3",
      description = "Repeats of each write-speed measurement (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (blocks < 1) {
      throw new ParameterException(
          spec.commandLine(), "--blocks must be at least 1, got " + blocks);
    }
    for (String p : writerPriorities) {
      if (!p.equals("lowest") && !p.equals("normal")) {
        throw new ParameterException(
            spec.commandLine(), "--writer-priorities: " + p + " is neither normal nor lowest");
      }
    }
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

  /** The figures of one block of steps. */
  private record Block(
      String kind,
      double wallPerStep,
      double loopCpuPerStep,
      double otherCpuSeconds,
      double earlyWall,
      double laterWall) {}

  /**
   * Blocks of {@code interval} steps: without a checkpoint, then one with a checkpoint per writer
   * priority, and so on, ending with one without (off, on, off, on, ..., off), so that every block
   * with a checkpoint lies between two without: its ratio to their mean cancels the load when it
   * drifts, and the median of those ratios over the repeats does not follow one disturbed block.
   * The loop thread's CPU time per step is reported beside the wall time: other processes on the
   * machine hardly change it, so it shows what the checkpoint adds to the loop's own work.
   */
  private void overhead(
      TrainingSession session, String hash, Path folder, int interval, double diskSeconds)
      throws IOException {
    boolean lowest = writerPriorities.contains("lowest");
    boolean normal = writerPriorities.contains("normal");
    List<Block> off = new ArrayList<>();
    List<Block> onNormal = new ArrayList<>();
    List<Block> onLowest = new ArrayList<>();
    double[] snapshot = new double[2]; // wall, loop-thread CPU seconds, summed
    double[] waited = new double[1];
    List<CheckpointWriter.WriteReport> writes = new ArrayList<>();
    List<Block> all = new ArrayList<>();
    String lowestPriority = "";
    Snapshot[] lowMemory = new Snapshot[1];
    Snapshot[] normalMemory = new Snapshot[1];
    try (CheckpointWriter low = lowest ? new CheckpointWriter(folder, 2, true) : null;
        CheckpointWriter trainers = normal ? new CheckpointWriter(folder, 2) : null) {
      if (low != null) {
        lowestPriority = low.priority();
      }
      for (int b = 0; b < blocks; b++) {
        all.add(add(off, block("off", session, hash, interval, null, null, snapshot, waited)));
        if (trainers != null) {
          all.add(
              add(
                  onNormal,
                  block(
                      "on, normal priority",
                      session,
                      hash,
                      interval,
                      trainers,
                      normalMemory,
                      snapshot,
                      waited)));
          writes.addAll(trainers.drainFinished());
        }
        if (low != null) {
          all.add(
              add(
                  onLowest,
                  block(
                      "on, lowest priority",
                      session,
                      hash,
                      interval,
                      low,
                      lowMemory,
                      snapshot,
                      waited)));
          writes.addAll(low.drainFinished());
        }
      }
      all.add(add(off, block("off", session, hash, interval, null, null, snapshot, waited)));
    }
    int checkpoints = onNormal.size() + onLowest.size();
    System.out.printf(
        Locale.ROOT,
        "checkpoints written in the background while the loop ran (interval %d)%n",
        interval);
    System.out.println("| write | MB | seconds | MB/s | against the fastest disk probe |");
    System.out.println("|---|---:|---:|---:|---:|");
    for (CheckpointWriter.WriteReport w : writes) {
      row("checkpoint, background, step " + w.step(), w.bytes(), w.writeSeconds(), diskSeconds);
    }
    System.out.println();
    int early = Math.min(EARLY_STEPS, interval);
    System.out.printf(
        Locale.ROOT,
        "blocks of %d steps in the order run (each with a checkpoint between two without)%n",
        interval);
    System.out.printf(
        Locale.ROOT,
        "| block | checkpoint | ms per step | loop-thread CPU ms per step | ms per step, first %d"
            + " / other %d | other threads' CPU s |%n",
        early,
        interval - early);
    System.out.println("|---:|---|---:|---:|---:|---:|");
    for (int i = 0; i < all.size(); i++) {
      Block b = all.get(i);
      System.out.printf(
          Locale.ROOT,
          "| %d | %s | %.1f | %.1f | %.1f / %.1f | %.2f |%n",
          i + 1,
          b.kind(),
          b.wallPerStep() * 1e3,
          b.loopCpuPerStep() * 1e3,
          b.earlyWall() * 1e3,
          b.laterWall() * 1e3,
          b.otherCpuSeconds());
    }
    System.out.println();
    double[] drift = new double[off.size() - 1];
    for (int b = 0; b + 1 < off.size(); b++) {
      drift[b] = Math.abs(off.get(b + 1).wallPerStep() / off.get(b).wallPerStep() - 1);
    }
    double offDrift = median(drift);
    double offStep = median(off.stream().mapToDouble(Block::wallPerStep).toArray());
    double offCpu = median(off.stream().mapToDouble(Block::loopCpuPerStep).toArray());
    System.out.printf(
        Locale.ROOT,
        "overhead: each block with a checkpoint against the mean of the blocks without before and"
            + " after it; median of %d (range); writer thread at lowest priority: %s%n",
        blocks,
        lowest ? lowestPriority : "not run (--writer-priorities)");
    System.out.println("| checkpointing | step time overhead | loop-thread CPU overhead |");
    System.out.println("|---|---:|---:|");
    int defaultInterval = new CheckpointSpec().intervalSteps;
    double normalOverhead = Double.NaN;
    if (!onNormal.isEmpty()) {
      normalOverhead =
          overheadRow(
              "on, one checkpoint every "
                  + interval
                  + " steps, writer at normal priority (the trainer's)",
              onNormal,
              off);
    }
    if (!onLowest.isEmpty()) {
      overheadRow(
          "on, one checkpoint every " + interval + " steps, writer at lowest priority",
          onLowest,
          off);
    }
    System.out.printf(
        Locale.ROOT,
        "blocks without a checkpoint, one to the next: median change %.1f %% of step time (how far"
            + " the load moved the blocks by itself)%n",
        100 * offDrift);
    double snapshotWall = snapshot[0] / checkpoints;
    double snapshotCpu = snapshot[1] / checkpoints;
    double otherOn =
        mean(
            java.util.stream.Stream.concat(onNormal.stream(), onLowest.stream())
                .mapToDouble(Block::otherCpuSeconds)
                .toArray());
    double otherOff = mean(off.stream().mapToDouble(Block::otherCpuSeconds).toArray());
    System.out.printf(
        Locale.ROOT,
        "per checkpoint: snapshot into the file images %.3f s on the loop (%.3f s of its CPU):"
            + " %.2f %% of %d steps' time (%.2f %% of their loop-thread CPU); loop waited for the"
            + " writer %.3f s; the other threads (writer, checksum, GC) used %.2f s more CPU than in"
            + " a block without%n",
        snapshotWall,
        snapshotCpu,
        100 * snapshotWall / (interval * offStep),
        interval,
        100 * snapshotCpu / (interval * offCpu),
        waited[0] / checkpoints,
        otherOn - otherOff);
    if (!Double.isNaN(normalOverhead)) {
      String verdict =
          Math.abs(normalOverhead) <= offDrift
              ? "within the noise of this run (the blocks without moved as much by themselves)"
              : normalOverhead <= TARGET_OVERHEAD ? "within" : "above";
      System.out.printf(
          Locale.ROOT,
          "%s: normal-priority overhead %+.1f %% (target at the default interval, %d steps: at most"
              + " %.0f %%): %s; the snapshot alone, the loop's certain share, is %.2f %%%n",
          interval == defaultInterval
              ? "at the default interval"
              : "at interval " + interval + " (not the default, " + defaultInterval + ")",
          100 * normalOverhead,
          defaultInterval,
          100 * TARGET_OVERHEAD,
          verdict,
          100 * snapshotWall / (interval * offStep));
      if (interval != defaultInterval) {
        System.out.printf(
            Locale.ROOT,
            "projected to one checkpoint every %d steps (the same extra seconds per checkpoint):"
                + " %+.1f %%%n",
            defaultInterval,
            100 * normalOverhead * interval / defaultInterval);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "load average now: %.1f%n%n",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }

  /** The step-time overhead of the documented default interval may be at most this. */
  static final double TARGET_OVERHEAD = 0.03;

  /**
   * Prints the row of one kind of checkpointed block; returns its median step-time overhead
   * (fraction).
   */
  private static double overheadRow(String what, List<Block> on, List<Block> off) {
    double[] wall = new double[on.size()];
    double[] cpu = new double[on.size()];
    for (int b = 0; b < on.size(); b++) {
      wall[b] =
          bracketedOverhead(
              on.get(b).wallPerStep(), off.get(b).wallPerStep(), off.get(b + 1).wallPerStep());
      cpu[b] =
          bracketedOverhead(
              on.get(b).loopCpuPerStep(),
              off.get(b).loopCpuPerStep(),
              off.get(b + 1).loopCpuPerStep());
    }
    System.out.printf(
        Locale.ROOT,
        "| %s | %+.1f %% (%+.1f .. %+.1f) | %+.1f %% (%+.1f .. %+.1f) |%n",
        what,
        100 * median(wall),
        100 * Arrays.stream(wall).min().orElse(0),
        100 * Arrays.stream(wall).max().orElse(0),
        100 * median(cpu),
        100 * Arrays.stream(cpu).min().orElse(0),
        100 * Arrays.stream(cpu).max().orElse(0));
    return median(wall);
  }

  /**
   * The overhead of a block with a checkpoint against the mean of the blocks without before and
   * after it (a fraction: 0.03 is 3 %).
   */
  static double bracketedOverhead(double on, double offBefore, double offAfter) {
    return on / ((offBefore + offAfter) / 2) - 1;
  }

  /** The median; of an even count, the mean of the middle two. */
  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  private static Block add(List<Block> list, Block block) {
    list.add(block);
    return block;
  }

  /**
   * One block of {@code interval} steps; with a writer, a checkpoint first (snapshot on the loop's
   * thread, reusing the memory of the writer's previous one as the trainer does, the write in the
   * background) and a wait for its write at the end: the cost of one checkpoint per interval.
   */
  private static Block block(
      String kind,
      TrainingSession session,
      String hash,
      int interval,
      CheckpointWriter writer,
      Snapshot[] memory,
      double[] snapshotSeconds,
      double[] waitedSeconds)
      throws IOException {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpu0 = threads.getCurrentThreadCpuTime();
    long process0 = processCpuNanos();
    long t0 = System.nanoTime();
    if (writer != null) {
      waitedSeconds[0] += writer.await();
      long s0 = System.nanoTime();
      long sc0 = threads.getCurrentThreadCpuTime();
      Snapshot s = Snapshot.of(session, hash, memory[0]);
      memory[0] = s;
      snapshotSeconds[0] += (System.nanoTime() - s0) / 1e9;
      snapshotSeconds[1] += (threads.getCurrentThreadCpuTime() - sc0) / 1e9;
      writer.submit(s);
    }
    double[] split = new double[2];
    runSteps(session, interval, split);
    if (writer != null) {
      waitedSeconds[0] += writer.await();
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    double loopCpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
    double processCpu = (processCpuNanos() - process0) / 1e9;
    int early = Math.min(EARLY_STEPS, interval);
    return new Block(
        kind,
        wall / interval,
        loopCpu / interval,
        processCpu - loopCpu,
        split[0] / early,
        interval > early ? split[1] / (interval - early) : 0);
  }

  /** This process's CPU time in nanoseconds, all threads; 0 where the JVM does not tell. */
  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : 0;
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
