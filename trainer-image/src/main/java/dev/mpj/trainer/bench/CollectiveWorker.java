package dev.mpj.trainer.bench;

import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.collective.CollectiveException;
import dev.mpj.trainer.collective.ElementType;
import dev.mpj.trainer.collective.Half;
import dev.mpj.trainer.collective.Reduction;
import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One replica process for tests and the benchmark: joins from the environment ({@code MPJ_RANK},
 * {@code MPJ_WORLD_SIZE}, {@code MPJ_COORDINATOR_ADDR}, {@code MPJ_COORDINATOR_PORT}, {@code
 * MPJ_JOB_TOKEN}) and runs one scenario. Exits 0 when done, {@link
 * TrainerContract#EXIT_REPLICAS_FAILED} when a peer failed (retryable), 2 on bad arguments or
 * environment.
 *
 * <pre>
 * check ELEMENTS fp32|fp16 sum|mean SEED BUCKET_BYTES OUT_DIR
 *     broadcast a payload from rank 0, all-reduce sample gradients (split into parameters, bucketed),
 *     combine an overflow flag; writes OUT_DIR/rank-R.bin and prints one line of results
 * loop ELEMENTS
 *     prints "ready" after the first all-reduce, then all-reduces until a peer fails
 * bench SIZES_BYTES(comma) TYPES(comma) ITERATIONS
 *     rank 0 prints one line per size and type: the median and mean seconds per all-reduce; then the
 *     bucketed all-reduce of the largest size as 1 MiB parameters, overlap off and on
 * </pre>
 */
public final class CollectiveWorker {

  private CollectiveWorker() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    ReplicaGroup group;
    try {
      if (args.length == 0) {
        throw new IllegalArgumentException("usage: check|loop|bench ...");
      }
      group = ReplicaGroup.join(RendezvousConfig.fromEnv(System.getenv()));
    } catch (IllegalArgumentException | InvalidJobException e) {
      System.err.println("collective worker: " + e.getMessage());
      return 2;
    } catch (CollectiveException e) {
      System.err.println("collective worker: " + e.getMessage());
      return TrainerContract.EXIT_REPLICAS_FAILED;
    }
    try (group) {
      switch (args[0]) {
        case "check" -> check(group, args);
        case "loop" -> loop(group, Integer.parseInt(args[1]));
        case "bench" -> bench(group, args);
        default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
      }
      return 0;
    } catch (CollectiveException e) {
      System.err.println(
          "collective worker rank "
              + group.rank()
              + ": "
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage());
      return TrainerContract.EXIT_REPLICAS_FAILED;
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      System.err.println("collective worker: bad arguments: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      System.err.println("collective worker: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static void check(ReplicaGroup group, String[] args) throws IOException {
    int elements = Integer.parseInt(args[1]);
    ElementType type = ElementType.valueOf(args[2].toUpperCase(Locale.ROOT).replace("-", ""));
    Reduction reduction = Reduction.valueOf(args[3].toUpperCase(Locale.ROOT));
    long seed = Long.parseLong(args[4]);
    group.bucketBytes(Integer.parseInt(args[5]));
    Path out = Path.of(args[6]);

    byte[] payload = group.broadcast(group.rank() == 0 ? samplePayload(seed) : null);
    byte[] gradient = sampleValues(type, elements, seed, group.rank());
    List<byte[]> parameters = split(gradient, type, seed);
    group.allReduce(parameters, type, reduction);
    byte[] reduced = join(parameters, gradient.length);
    boolean anyOverflow = group.anyTrue(group.rank() == group.worldSize() - 1);
    long[] ranks = group.allGather(group.rank());
    Files.write(out.resolve("rank-" + group.rank() + ".bin"), reduced);
    System.out.printf(
        "rank=%d broadcast=%s anyTrue=%s gathered=%s%n",
        group.rank(), sha256(payload), anyOverflow, Arrays.toString(ranks));
  }

  private static void loop(ReplicaGroup group, int elements) throws InterruptedException {
    byte[] gradient = sampleValues(ElementType.FP32, elements, 1, group.rank());
    group.allReduce(gradient, ElementType.FP32, Reduction.MEAN);
    System.out.println("ready");
    System.out.flush();
    while (true) {
      group.allReduce(gradient, ElementType.FP32, Reduction.MEAN);
      Thread.sleep(5); // a training step computes between reductions; keeps the test machine usable
    }
  }

  private static void bench(ReplicaGroup group, String[] args) {
    int iterations = Integer.parseInt(args[3]);
    for (String sizeArg : args[1].split(",")) {
      long bytes = Long.parseLong(sizeArg);
      for (String typeArg : args[2].split(",")) {
        ElementType type = ElementType.valueOf(typeArg.toUpperCase(Locale.ROOT));
        // Direct, as NDArray.toByteBuffer() gives: reduced where it lies, so this times the ring
        // itself.
        ByteBuffer buffer =
            ByteBuffer.allocateDirect(Math.toIntExact(bytes))
                .put(scaledGradients(type, Math.toIntExact(bytes / type.bytes()), group.rank()))
                .flip();
        warmUp(group, () -> group.allReduce(buffer, type, Reduction.MEAN));
        double[] seconds = new double[iterations];
        double[] cpuSeconds = new double[iterations];
        double[] waitedSeconds = new double[iterations];
        for (int i = 0; i < iterations; i++) {
          long cpuStart = threadsCpuNanos();
          long waitStart = group.waitedNanos();
          long start = System.nanoTime();
          group.allReduce(buffer, type, Reduction.MEAN);
          seconds[i] = (System.nanoTime() - start) / 1e9;
          cpuSeconds[i] = (threadsCpuNanos() - cpuStart) / 1e9;
          waitedSeconds[i] = (group.waitedNanos() - waitStart) / 1e9;
        }
        if (group.rank() == 0) {
          System.out.printf(
              Locale.ROOT,
              "allreduce processes=%d bytes=%d type=%s reduction=%s sender=%s seconds=%.6f"
                  + " mean=%.6f cpu=%.6f waited=%.6f%n",
              group.worldSize(),
              bytes,
              type,
              ReplicaGroup.reductionVectorised() ? "vector" : "arrays",
              ReplicaGroup.senderThread() ? "thread" : "inline",
              median(seconds),
              Arrays.stream(seconds).average().orElse(0),
              median(cpuSeconds),
              median(waitedSeconds));
        }
      }
    }
    // Overlap: the same gradient as 1 MiB parameters in 4 MiB buckets, packed beside the wire or
    // not.
    long bytes = Long.parseLong(args[1].split(",")[args[1].split(",").length - 1]);
    byte[] whole = sampleValues(ElementType.FP32, Math.toIntExact(bytes / 4), 5, group.rank());
    List<byte[]> parameters = new ArrayList<>();
    for (int from = 0; from < whole.length; from += 1 << 20) {
      parameters.add(Arrays.copyOfRange(whole, from, Math.min(whole.length, from + (1 << 20))));
    }
    group.bucketBytes(4 << 20);
    for (boolean overlap : new boolean[] {false, true}) {
      group.overlap(overlap);
      warmUp(group, () -> group.allReduce(parameters, ElementType.FP32, Reduction.MEAN));
      double[] seconds = new double[iterations];
      for (int i = 0; i < iterations; i++) {
        long start = System.nanoTime();
        group.allReduce(parameters, ElementType.FP32, Reduction.MEAN);
        seconds[i] = (System.nanoTime() - start) / 1e9;
      }
      if (group.rank() == 0) {
        System.out.printf(
            Locale.ROOT,
            "bucketed processes=%d bytes=%d overlap=%s seconds=%.6f mean=%.6f%n",
            group.worldSize(),
            bytes,
            overlap,
            median(seconds),
            Arrays.stream(seconds).average().orElse(0));
      }
    }
  }

  /**
   * CPU nanoseconds of every Java thread of this process (the calling thread's, and the sender
   * thread's where there is one), from each thread's own clock: the process's clock counts in 10 ms
   * ticks on Linux, as long as an all-reduce takes here.
   */
  private static long threadsCpuNanos() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : threads.getAllThreadIds()) {
      sum += Math.max(0, threads.getThreadCpuTime(id));
    }
    return sum;
  }

  /**
   * Runs {@code operation} until the JIT has compiled the reduction loops and the socket buffers
   * have grown: at least 10 times and 1 s. Every rank stops at the same iteration (the first to be
   * done decides).
   */
  private static void warmUp(ReplicaGroup group, Runnable operation) {
    long start = System.nanoTime();
    for (int i = 1; ; i++) {
      operation.run();
      if (group.anyTrue(i >= 10 && System.nanoTime() - start > 1_000_000_000L)) {
        return;
      }
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted.length % 2 == 1
        ? sorted[sorted.length / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  }

  /**
   * Deterministic sample gradients for one rank: signs, magnitudes over many octaves, some zeros,
   * subnormals in FP16.
   */
  public static byte[] sampleValues(ElementType type, int elements, long seed, int rank) {
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + rank);
    ByteBuffer bytes = ByteBuffer.allocate(elements * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      double gaussian = random.nextDouble(-1, 1) + random.nextDouble(-1, 1);
      float value =
          random.nextInt(50) == 0
              ? 0f
              : (float)
                  Math.scalb(
                      gaussian,
                      type == ElementType.FP16 ? random.nextInt(-20, 9) : random.nextInt(-30, 30));
      if (type == ElementType.FP32) {
        bytes.putFloat(value);
      } else {
        bytes.putShort((short) Half.fromFloat(value));
      }
    }
    return bytes.array();
  }

  /**
   * Values like loss-scaled gradients for the benchmark: mostly normal in FP16 (the loss scale
   * keeps them out of the subnormal range, where converting back to FP16 costs several times more).
   */
  static byte[] scaledGradients(ElementType type, int elements, int rank) {
    SplittableRandom random = new SplittableRandom(17 + rank);
    ByteBuffer bytes = ByteBuffer.allocate(elements * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      float value = (float) Math.scalb(random.nextDouble(-1, 1), random.nextInt(-10, 3));
      if (type == ElementType.FP32) {
        bytes.putFloat(value);
      } else {
        bytes.putShort((short) Half.fromFloat(value));
      }
    }
    return bytes.array();
  }

  /**
   * The bytes rank 0 broadcasts in the check scenario (a little over 2 MiB: several pipelined
   * pieces).
   */
  public static byte[] samplePayload(long seed) {
    byte[] payload = new byte[(2 << 20) + 12345];
    new SplittableRandom(seed).nextBytes(payload);
    return payload;
  }

  /** Cuts a gradient into parameters of varied sizes, the same on every rank. */
  public static List<byte[]> split(byte[] gradient, ElementType type, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<byte[]> parameters = new ArrayList<>();
    int from = 0;
    while (from < gradient.length) {
      int length = Math.min(gradient.length - from, type.bytes() * random.nextInt(1, 40_000));
      parameters.add(Arrays.copyOfRange(gradient, from, from + length));
      from += length;
    }
    return parameters;
  }

  public static byte[] join(List<byte[]> parameters, int length) {
    byte[] joined = new byte[length];
    int at = 0;
    for (byte[] parameter : parameters) {
      System.arraycopy(parameter, 0, joined, at, parameter.length);
      at += parameter.length;
    }
    return joined;
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
