package dev.mpj.trainer.bench;

import dev.mpj.trainer.collective.RendezvousConfig;
import dev.mpj.trainer.collective.ReplicaGroup;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj-trainer bench allreduce}: ring all-reduce bus bandwidth across local replica
 * processes, against a plain single-stream loopback TCP transfer measured in the same run (the
 * ceiling here). busBw = algBw * 2(N-1)/N, as NCCL's tests define it, with algBw = buffer bytes /
 * time per all-reduce (the median of the timed all-reduces: robust to other work on the machine);
 * GB is 10^9 bytes.
 */
@Command(
    name = "allreduce",
    mixinStandardHelpOptions = true,
    description =
        "All-reduce bus bandwidth across local replica processes against single-stream loopback TCP.")
public final class AllReduceBenchCommand implements Callable<Integer> {

  @Option(
      names = "--processes",
      split = ",",
      defaultValue = "2,4",
      description = "Replica processes (default: ${DEFAULT-VALUE}).")
  List<Integer> processes;

  @Option(
      names = "--sizes-mib",
      split = ",",
      defaultValue = "4,64",
      description = "Buffer sizes in MiB (default: ${DEFAULT-VALUE}).")
  List<Integer> sizesMib;

  @Option(
      names = "--types",
      split = ",",
      defaultValue = "fp32,fp16",
      description = "Element types (default: ${DEFAULT-VALUE}).")
  List<String> types;

  @Option(
      names = "--iterations",
      defaultValue = "10",
      description = "Timed all-reduces per case (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(
      names = "--reductions",
      split = ",",
      defaultValue = "vector",
      description =
          "How received chunks are reduced: vector (the Vector API, what the trainer uses), arrays"
              + " (bulk copies into arrays and plain loops, the fallback without"
              + " jdk.incubator.vector); both to compare them in one run (default:"
              + " ${DEFAULT-VALUE}).")
  List<String> reductions;

  @Option(
      names = "--senders",
      split = ",",
      defaultValue = "inline",
      description =
          "Who writes a rank's large sends: inline (the thread that receives and reduces, the"
              + " default of the trainer), thread (a sender thread of the rank's own); both to"
              + " compare them in one run (default: ${DEFAULT-VALUE}).")
  List<String> senders;

  @Option(
      names = "--loopback-mib",
      defaultValue = "2048",
      description = "Bytes the loopback baseline sends (default: ${DEFAULT-VALUE}).")
  int loopbackMib;

  public static void main(String[] args) {
    System.exit(new CommandLine(new AllReduceBenchCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    System.out.printf(
        "cpus: %d, java %s, load average %.1f%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.println("reduction here: " + ReplicaGroup.reductionImplementation());
    double[] cpuNanosPerByte = new double[2];
    double loopback = loopbackBytesPerSecond((long) loopbackMib << 20, cpuNanosPerByte);
    System.out.printf(
        Locale.ROOT,
        "single-stream loopback TCP: %.2f GB/s (%d MiB, 4 MiB writes); thread CPU time per byte:"
            + " sender %.3f ns, receiver %.3f ns%n",
        loopback / 1e9,
        loopbackMib,
        cpuNanosPerByte[0],
        cpuNanosPerByte[1]);
    // What the ring's N links carry when all of them run at once, as they do in a ring step: on a
    // machine with fewer free cores than 2N (a sender and a receiver per link) less than one
    // stream alone. The ring cannot beat it; busBw against it is the ring's own efficiency.
    Map<Integer, Double> concurrent = new LinkedHashMap<>();
    for (int n : processes) {
      double perLink = concurrentLinksBytesPerSecond(n, ((long) loopbackMib << 20) / n);
      concurrent.put(n, perLink);
      System.out.printf(
          Locale.ROOT,
          "%d loopback TCP streams at once, in a ring (as the all-reduce's links): %.2f GB/s each%n",
          n,
          perLink / 1e9);
    }
    System.out.println();

    List<String> table = new ArrayList<>();
    List<String> bucketed = new ArrayList<>();
    for (String reduction : reductions) {
      if (!reduction.equals("vector") && !reduction.equals("arrays")) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--reductions: " + reduction + " is neither vector nor arrays");
      }
    }
    for (String sender : senders) {
      if (!sender.equals("inline") && !sender.equals("thread")) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--senders: " + sender + " is neither inline nor thread");
      }
    }
    for (int n : processes) {
      for (String reduction : reductions) {
        for (String sender : senders) {
          for (String line : runReplicas(n, reduction, sender)) {
            Map<String, String> fields = fields(line);
            double seconds =
                Double.parseDouble(fields.get("seconds")); // the median: robust to a busy machine
            long bytes = Long.parseLong(fields.get("bytes"));
            if (line.startsWith("allreduce")) {
              if (!sender.equals(fields.get("sender"))) {
                throw new IllegalStateException(
                    "asked the replicas for the "
                        + sender
                        + " sender, they used "
                        + fields.get("sender"));
              }
              if (!reduction.equals(fields.get("reduction"))) {
                throw new IllegalStateException(
                    "asked the replicas for the "
                        + reduction
                        + " reduction, they used "
                        + fields.get("reduction")
                        + " (this JVM: "
                        + ReplicaGroup.reductionImplementation()
                        + ")");
              }
              double algBw = bytes / seconds;
              double busBw = algBw * 2 * (n - 1) / n;
              int elementBytes = fields.get("type").equals("FP16") ? 2 : 4;
              table.add(
                  String.format(
                      Locale.ROOT,
                      "| %d | %s | %s | %s | %d MiB | %.1f | %.1f | %.2f | %.2f | %.0f%% | %.0f%% |"
                          + " %.2f | %.1f | %.1f | %.0f%% |",
                      n,
                      fields.get("type"),
                      reduction,
                      sender,
                      bytes >> 20,
                      seconds * 1e3,
                      Double.parseDouble(fields.get("mean")) * 1e3,
                      algBw / 1e9,
                      busBw / 1e9,
                      100 * busBw / loopback,
                      100 * busBw / concurrent.get(n),
                      seconds * 1e9 / (bytes / elementBytes),
                      Double.parseDouble(fields.get("cpu")) * 1e3,
                      Double.parseDouble(fields.get("waited")) * 1e3,
                      // busBw if rank 0 had a core of its own and never waited: what the ring's own
                      // work allows, independent of the machine's load
                      100
                          * bytes
                          * 2.0
                          * (n - 1)
                          / n
                          / Double.parseDouble(fields.get("cpu"))
                          / loopback));
            } else {
              bucketed.add(
                  String.format(
                      Locale.ROOT,
                      "| %d | %s | %s | %d MiB | %s | %.1f | %.1f |",
                      n,
                      reduction,
                      sender,
                      bytes >> 20,
                      Boolean.parseBoolean(fields.get("overlap")) ? "on" : "off",
                      seconds * 1e3,
                      Double.parseDouble(fields.get("mean")) * 1e3));
            }
          }
        }
      }
    }
    System.out.println(
        "| processes | type | reduction | sender | buffer | median ms | mean ms | algBw GB/s | busBw"
            + " GB/s | busBw / loopback | busBw / N streams at once | ns per element | rank 0 CPU"
            + " ms | rank 0 waited ms | busBw at rank 0's CPU time / loopback |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    table.forEach(System.out::println);
    System.out.println();
    System.out.println(
        "Bucketed FP32 all-reduce of 1 MiB parameters in 4 MiB buckets, packing beside the wire or not:");
    System.out.println(
        "| processes | reduction | sender | gradient | overlap | median ms | mean ms |");
    System.out.println("|---|---|---|---|---|---|---|");
    bucketed.forEach(System.out::println);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "load average at the end: %.1f (median ms and busBw depend on it; rank 0 CPU ms (all its"
            + " Java threads), and the last column, much less; waited ms is the time rank"
            + " 0's calling thread waited on its neighbours; with an inline sender, the rest of the"
            + " median beyond CPU and waiting is time without a core)%n",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    return 0;
  }

  private List<String> runReplicas(int n, String reduction, String sender)
      throws IOException, InterruptedException {
    byte[] token = new byte[24];
    new SecureRandom().nextBytes(token);
    int port;
    try (ServerSocketChannel probe =
        ServerSocketChannel.open()
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
    }
    RendezvousConfig config =
        new RendezvousConfig(
            0,
            n,
            "127.0.0.1",
            port,
            HexFormat.of().formatHex(token),
            Duration.ofSeconds(120),
            Duration.ofSeconds(120),
            0);
    List<String> sizes = new ArrayList<>();
    for (int mib : sizesMib) {
      sizes.add(Long.toString((long) mib << 20));
    }
    List<Process> replicas =
        ReplicaProcesses.startAll(
            config,
            List.of(
                "-Xmx1g",
                "-XX:MaxDirectMemorySize=1g",
                "-XX:+UseParallelGC",
                "-Dmpj.collective.vector=" + reduction.equals("vector"),
                "-Dmpj.collective.sender-thread=" + sender.equals("thread")),
            List.of(
                "bench",
                String.join(",", sizes),
                String.join(",", types),
                Integer.toString(iterations)),
            null);
    try {
      for (int rank = 1; rank < n; rank++) {
        replicas.get(rank).getInputStream().close();
      }
      List<String> lines = new ArrayList<>();
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(replicas.get(0).getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          System.err.println("  " + line);
          lines.add(line);
        }
      }
      for (int rank = 0; rank < n; rank++) {
        if (!replicas.get(rank).waitFor(10, TimeUnit.MINUTES)
            || replicas.get(rank).exitValue() != 0) {
          throw new IllegalStateException("replica " + rank + " of " + n + " failed");
        }
      }
      return lines;
    } finally {
      replicas.forEach(Process::destroyForcibly);
    }
  }

  private static Map<String, String> fields(String line) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String word : line.split(" ")) {
      int eq = word.indexOf('=');
      if (eq > 0) {
        fields.put(word.substring(0, eq), word.substring(eq + 1));
      }
    }
    return fields;
  }

  /**
   * Bytes per second of each of {@code n} loopback TCP connections carrying {@code bytesPerLink} at
   * once (a sender and a receiver thread each, 4 MiB writes), timed from the first byte to the
   * last: what a ring of {@code n} links gives when every link is busy.
   */
  static double concurrentLinksBytesPerSecond(int n, long bytesPerLink) throws Exception {
    List<ServerSocketChannel> listeners = new ArrayList<>();
    List<CompletableFuture<Long>> receivers = new ArrayList<>();
    List<Thread> senders = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocketChannel listener =
            ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        listeners.add(listener);
      }
      for (int i = 0; i < n; i++) {
        ServerSocketChannel listener = listeners.get(i);
        receivers.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try (SocketChannel in = listener.accept()) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
                    for (long received = 0; received < bytesPerLink; ) {
                      buffer.clear();
                      int read = in.read(buffer);
                      if (read < 0) {
                        throw new IOException("sender closed early");
                      }
                      received += read;
                    }
                    return System.nanoTime();
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                },
                runnable -> new Thread(runnable, "loopback-receiver").start()));
        SocketChannel out = SocketChannel.open(listener.getLocalAddress());
        Thread sender =
            new Thread(
                () -> {
                  try (out) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
                    for (long sent = 0; sent < bytesPerLink; ) {
                      buffer.clear().limit((int) Math.min(buffer.capacity(), bytesPerLink - sent));
                      while (buffer.hasRemaining()) {
                        sent += out.write(buffer);
                      }
                    }
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                },
                "loopback-sender");
        senders.add(sender);
      }
      long start = System.nanoTime();
      senders.forEach(Thread::start);
      long end = start;
      for (CompletableFuture<Long> receiver : receivers) {
        end = Math.max(end, receiver.get(10, TimeUnit.MINUTES));
      }
      for (Thread sender : senders) {
        sender.join();
      }
      return bytesPerLink / ((end - start) / 1e9);
    } finally {
      for (ServerSocketChannel listener : listeners) {
        listener.close();
      }
    }
  }

  /** One sender thread, one receiver thread, one TCP connection over loopback, 4 MiB writes. */
  static double loopbackBytesPerSecond(long total, double[] cpuNanosPerByte) throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (ServerSocketChannel listener =
        ServerSocketChannel.open()
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      CompletableFuture<Long> receiver =
          CompletableFuture.supplyAsync(
              () -> {
                try (SocketChannel in = listener.accept()) {
                  ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
                  long received = 0;
                  long start = 0;
                  long cpuStart = threads.getCurrentThreadCpuTime();
                  while (received < total) {
                    buffer.clear();
                    int read = in.read(buffer);
                    if (read < 0) {
                      throw new IOException("sender closed early");
                    }
                    if (received == 0) {
                      start = System.nanoTime();
                    }
                    received += read;
                  }
                  cpuNanosPerByte[1] =
                      (threads.getCurrentThreadCpuTime() - cpuStart) / (double) total;
                  return System.nanoTime() - start;
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      long cpuStart = threads.getCurrentThreadCpuTime();
      try (SocketChannel out = SocketChannel.open(listener.getLocalAddress())) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
        for (long sent = 0; sent < total; ) {
          buffer.clear().limit((int) Math.min(buffer.capacity(), total - sent));
          while (buffer.hasRemaining()) {
            sent += out.write(buffer);
          }
        }
      }
      cpuNanosPerByte[0] = (threads.getCurrentThreadCpuTime() - cpuStart) / (double) total;
      return total / (receiver.get(10, TimeUnit.MINUTES) / 1e9);
    }
  }
}
