package dev.mpj.trainer.collective;

import dev.mpj.api.TrainerContract;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas of one job, connected in a ring: broadcast from rank 0, all-reduce, and agreement on
 * flags. Every replica calls the same operations in the same order, from one thread.
 *
 * <p>Any {@link CollectiveException} closes the group's connections at once, so that the failure
 * reaches every other replica promptly (each sees its neighbour's connection close), and every
 * later call fails too. A trainer exits with {@link TrainerContract#EXIT_REPLICAS_FAILED} on it:
 * retryable.
 */
public final class ReplicaGroup implements AutoCloseable {

  public static final int DEFAULT_BUCKET_BYTES = 4 << 20;

  private static final Logger LOG = LoggerFactory.getLogger(ReplicaGroup.class);
  private static final int BROADCAST = 2;
  private static final int ALL_GATHER = 3;
  private static final int BROADCAST_CHUNK = 1 << 20;

  private final int rank;
  private final int worldSize;
  private final RingLinks links;
  private final InetSocketAddress ringAddress;
  private final RingAllReduce ring;
  private int operation;
  private ByteBuffer work = ByteBuffer.allocateDirect(0);
  private ByteBuffer[] buckets = new ByteBuffer[0];
  private int bucketBytes = DEFAULT_BUCKET_BYTES;
  private boolean overlap = true;
  private ExecutorService communication;
  private BucketedAllReduce openSession;
  private final BucketedAllReduce.Group sessionGroup = new SessionGroup();
  private volatile CollectiveException failure;
  private volatile boolean closed;

  private ReplicaGroup(int rank, int worldSize, RingLinks links, InetSocketAddress ringAddress) {
    this.rank = rank;
    this.worldSize = worldSize;
    this.links = links;
    this.ringAddress = ringAddress;
    this.ring = links == null ? null : new RingAllReduce(links, rank, worldSize);
  }

  /**
   * Joins the group described by {@code config}: returns once every replica is connected in the
   * ring.
   *
   * @throws RendezvousException when that does not happen within the rendezvous timeout
   */
  public static ReplicaGroup join(RendezvousConfig config) {
    if (config.worldSize() == 1) {
      return new ReplicaGroup(0, 1, null, null);
    }
    Rendezvous.Formed formed = Rendezvous.form(config);
    return new ReplicaGroup(
        config.rank(), config.worldSize(), formed.links(), formed.ringAddress());
  }

  /**
   * How this JVM reduces received chunks, in words ("Vector API, 16 float lanes", or "arrays (...)"
   * with the reason): for the benchmark and logs.
   */
  public static String reductionImplementation() {
    return ChunkReducer.implementation();
  }

  /** True when this JVM's ring links write large sends on a sender thread of their own. */
  public static boolean senderThread() {
    return RingLinks.SENDER_THREAD;
  }

  /** True when this JVM reduces received chunks with the Vector API. */
  public static boolean reductionVectorised() {
    return ChunkReducer.VECTORISED;
  }

  /**
   * Nanoseconds this rank has spent, since it joined, waiting for its ring neighbours with nothing
   * to send or receive: what the benchmark tells apart from time the rank had no CPU.
   */
  public long waitedNanos() {
    return links == null ? 0 : links.waitedNanos();
  }

  public int rank() {
    return rank;
  }

  public int worldSize() {
    return worldSize;
  }

  /** Where this rank listens for its ring predecessor; null for a single replica. */
  public InetSocketAddress ringAddress() {
    return ringAddress;
  }

  /**
   * The size of the buckets gradients are packed into by {@link #allReduce(List, ElementType,
   * Reduction)}.
   */
  public ReplicaGroup bucketBytes(int bytes) {
    if (bytes < 4) {
      throw new IllegalArgumentException("bucket size must be at least 4 bytes, got " + bytes);
    }
    this.bucketBytes = bytes;
    return this;
  }

  public int bucketBytes() {
    return bucketBytes;
  }

  /** Whether a bucket's communication runs beside the packing of the next (on by default). */
  public ReplicaGroup overlap(boolean overlap) {
    this.overlap = overlap;
    return this;
  }

  /**
   * Rank 0's bytes, on every rank: the initial master weights, the data position. Ranks other than
   * 0 pass null (or anything: it is ignored). Pipelined along the ring in 1 MiB pieces.
   */
  public byte[] broadcast(byte[] data) {
    if (rank == 0 && data == null) {
      throw new IllegalArgumentException("rank 0 must give the bytes to broadcast");
    }
    if (worldSize == 1) {
      return data;
    }
    return guarded(
        () -> {
          int op = nextOperation();
          boolean first = rank == 0;
          boolean last = rank == worldSize - 1;
          ByteBuffer length = ByteBuffer.allocate(8);
          if (first) {
            length.putLong(data.length).flip();
            links.exchange(op, BROADCAST, length, null, null, 1);
          } else {
            links.exchange(op, BROADCAST, null, length, null, 1);
            if (!last) {
              length.flip();
              links.exchange(op, BROADCAST, length, null, null, 1);
            }
            length.flip();
          }
          byte[] result = first ? data : new byte[Math.toIntExact(length.getLong(0))];
          int pieces = (result.length + BROADCAST_CHUNK - 1) / BROADCAST_CHUNK;
          // Rank 0 sends piece i at round i; every other rank receives piece i at round i and,
          // unless it
          // is the last, forwards it to its successor one round later, while it receives the next.
          for (int round = 0; round <= pieces; round++) {
            ByteBuffer send = null;
            if (first) {
              send = round < pieces ? piece(result, round) : null;
            } else if (!last && round > 0) {
              send = piece(result, round - 1);
            }
            ByteBuffer recv = !first && round < pieces ? piece(result, round) : null;
            if (send != null || recv != null) {
              links.exchange(op, BROADCAST, send, recv, null, 1);
            }
          }
          return result;
        });
  }

  private static ByteBuffer piece(byte[] bytes, int index) {
    int from = index * BROADCAST_CHUNK;
    return ByteBuffer.wrap(bytes, from, Math.min(BROADCAST_CHUNK, bytes.length - from));
  }

  /** Every rank's value, indexed by rank. */
  public long[] allGather(long value) {
    long[] all = new long[worldSize];
    all[rank] = value;
    if (worldSize == 1) {
      return all;
    }
    return guarded(
        () -> {
          int op = nextOperation();
          ByteBuffer send = ByteBuffer.allocate(8);
          ByteBuffer recv = ByteBuffer.allocate(8);
          for (int step = 0; step < worldSize - 1; step++) {
            send.clear().putLong(all[Math.floorMod(rank - step, worldSize)]).flip();
            recv.clear();
            links.exchange(op, ALL_GATHER, send, recv, null, 8);
            all[Math.floorMod(rank - step - 1, worldSize)] = recv.getLong(0);
          }
          return all;
        });
  }

  /**
   * True on every rank when any rank passes true: the combined overflow flag, so all skip together.
   */
  public boolean anyTrue(boolean flag) {
    for (long value : allGather(flag ? 1 : 0)) {
      if (value != 0) {
        return true;
      }
    }
    return false;
  }

  /** Returns when every rank has called it. */
  public void barrier() {
    allGather(0);
  }

  /**
   * Reduces one buffer of raw little-endian values in place; every rank ends with the same bytes.
   *
   * @param buffer FP32 (4 bytes each) or FP16 bits (2 bytes each), as {@code NDArray.toByteArray()}
   *     gives
   */
  public void allReduce(byte[] buffer, ElementType type, Reduction reduction) {
    allReduce(ByteBuffer.wrap(buffer), type, reduction);
  }

  /**
   * Reduces the values between {@code buffer}'s position and limit in place (raw little-endian
   * values, whatever the buffer's order flag says; its position is left alone). A direct buffer is
   * reduced where it lies, without a copy: the way to hand over {@code NDArray.toByteBuffer()}.
   */
  public void allReduce(ByteBuffer buffer, ElementType type, Reduction reduction) {
    int bytes = buffer.remaining();
    type.checkLength(bytes);
    if (worldSize == 1) {
      return;
    }
    if (buffer.isReadOnly()) {
      throw new IllegalArgumentException("a read-only buffer cannot take the reduced values");
    }
    guarded(
        () -> {
          if (buffer.isDirect()) {
            reduceInPlace(
                buffer.slice().order(ByteOrder.LITTLE_ENDIAN),
                bytes / type.bytes(),
                type,
                reduction);
          } else {
            if (work.capacity() < bytes) {
              work = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
            }
            work.put(0, buffer, buffer.position(), bytes);
            reduceInPlace(work, bytes / type.bytes(), type, reduction);
            buffer.put(buffer.position(), work, 0, bytes);
          }
          return null;
        });
  }

  /** Reduces FP32 values in place: for scalars such as a loss to log. */
  public void allReduce(float[] values, Reduction reduction) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    allReduce(bytes.array(), ElementType.FP32, reduction);
    bytes.asFloatBuffer().get(values);
  }

  /**
   * Reduces a list of buffers (one per parameter) in place, packed into buckets of {@link
   * #bucketBytes()}; with overlap on, one bucket is on the wire while the next is packed.
   */
  public void allReduce(List<byte[]> buffers, ElementType type, Reduction reduction) {
    try (BucketedAllReduce session = startAllReduce(type, reduction)) {
      for (byte[] buffer : buffers) {
        session.add(buffer);
      }
      session.finish();
    }
  }

  /**
   * Starts a bucketed all-reduce that takes buffers one at a time, so a caller can produce the next
   * gradient (copy it off the device) while earlier buckets are being reduced. Results are written
   * back into the buffers by the time {@link BucketedAllReduce#finish()} returns.
   */
  public BucketedAllReduce startAllReduce(ElementType type, Reduction reduction) {
    checkUsable();
    if (openSession != null) {
      throw new IllegalStateException("a bucketed all-reduce is still open: finish it first");
    }
    if (overlap && worldSize > 1 && communication == null) {
      communication =
          Executors.newSingleThreadExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "mpj-collective-rank-" + rank);
                thread.setDaemon(true);
                return thread;
              });
    }
    openSession =
        new BucketedAllReduce(
            sessionGroup,
            type,
            reduction,
            bucketBytes,
            overlap && worldSize > 1 ? communication : null);
    return openSession;
  }

  /** This group as its bucketed all-reduce sessions see it. */
  private final class SessionGroup implements BucketedAllReduce.Group {
    @Override
    public int worldSize() {
      return worldSize;
    }

    /**
     * The same buffers for every session (one is open at a time, and it hands them all back before
     * it ends). Fresh ones for every step would be freed only by a garbage collection, which a
     * training loop with little heap garbage rarely runs: native memory grew by two buckets a step.
     */
    @Override
    public ByteBuffer[] bucketBuffers(int count, int bytes) {
      if (buckets.length != count || buckets[0].capacity() < bytes) {
        buckets = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
          buckets[i] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
      }
      return buckets;
    }

    @Override
    public void reduceInPlace(
        ByteBuffer data, int elements, ElementType type, Reduction reduction) {
      ReplicaGroup.this.reduceInPlace(data, elements, type, reduction);
    }

    @Override
    public void sessionClosed(BucketedAllReduce session) {
      if (openSession == session) {
        openSession = null;
      }
    }
  }

  private void reduceInPlace(ByteBuffer data, int elements, ElementType type, Reduction reduction) {
    if (worldSize == 1) {
      return;
    }
    unguardedBySession(
        () -> {
          ring.run(nextOperation(), data, elements, type, reduction);
          return null;
        });
  }

  private int nextOperation() {
    return ++operation;
  }

  private interface Operation<T> {
    T run();
  }

  /** Runs an operation the caller started: not while a bucketed all-reduce is still on the wire. */
  private <T> T guarded(Operation<T> operation) {
    if (openSession != null) {
      throw new IllegalStateException("a bucketed all-reduce is still open: finish it first");
    }
    return unguardedBySession(operation);
  }

  private <T> T unguardedBySession(Operation<T> operation) {
    checkUsable();
    try {
      return operation.run();
    } catch (CollectiveException e) {
      fail(e);
      throw e;
    }
  }

  private void checkUsable() {
    CollectiveException earlier = failure;
    if (earlier != null) {
      throw new CollectiveException(
          "the replica group failed earlier: " + earlier.getMessage(), earlier);
    }
    if (closed) {
      throw new IllegalStateException("the replica group is closed");
    }
  }

  private void fail(CollectiveException e) {
    if (failure == null) {
      failure = e;
      LOG.error("rank {}: {}", rank, e.getMessage());
    }
    if (links != null) {
      links.close(); // tells the neighbours at once; they tell theirs
    }
  }

  /** Closes the ring connections; the others see this rank leave. */
  @Override
  public void close() {
    closed = true;
    if (communication != null) {
      communication.shutdownNow();
    }
    if (links != null) {
      links.close();
    }
  }
}
