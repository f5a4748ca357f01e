package dev.mpj.trainer.collective;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;

/**
 * An all-reduce over many buffers (one per parameter), packed back to back into buckets of a fixed
 * size: a parameter may span two buckets. With a communication thread, bucket k is on the wire
 * while the caller packs bucket k+1 (two buckets in turn); without, each bucket is reduced as it
 * fills. Every rank must add buffers of the same sizes in the same order.
 */
public final class BucketedAllReduce implements AutoCloseable {

  /** What a session needs of the replica group that started it. */
  interface Group {
    int worldSize();

    /** Direct buffers for the buckets, the same ones for every session of the group. */
    ByteBuffer[] bucketBuffers(int count, int bytes);

    /** Reduces one packed bucket in place, on the communication thread or the caller's. */
    void reduceInPlace(ByteBuffer data, int elements, ElementType type, Reduction reduction);

    /** The session ended: another may start. */
    void sessionClosed(BucketedAllReduce session);
  }

  /**
   * Bytes [targetOffset, targetOffset + length) of a caller's buffer, at bucketOffset in the
   * bucket.
   */
  private record Segment(ByteBuffer target, int targetOffset, int bucketOffset, int length) {}

  private static final class Bucket {
    final ByteBuffer buffer;
    final List<Segment> segments = new ArrayList<>();
    int filled;

    Bucket(ByteBuffer buffer) {
      this.buffer = buffer;
    }
  }

  private final Group group;
  private final ElementType type;
  private final Reduction reduction;
  private final int bucketBytes;
  private final ExecutorService communication;
  private final int poolSize;
  private final BlockingQueue<Bucket> free;
  private Bucket filling;
  private volatile CollectiveException failure;
  private boolean finished;

  BucketedAllReduce(
      Group group,
      ElementType type,
      Reduction reduction,
      int bucketBytes,
      ExecutorService communication) {
    this.group = group;
    this.type = type;
    this.reduction = reduction;
    this.bucketBytes = Math.max(type.bytes(), bucketBytes - bucketBytes % type.bytes());
    this.communication = communication;
    this.poolSize = communication == null ? 1 : 2;
    this.free = new ArrayBlockingQueue<>(poolSize);
    for (ByteBuffer buffer : group.bucketBuffers(poolSize, this.bucketBytes)) {
      free.add(new Bucket(buffer));
    }
  }

  /**
   * Packs {@code buffer} (raw little-endian values); its reduced values are written back into it.
   */
  public void add(byte[] buffer) {
    add(ByteBuffer.wrap(buffer));
  }

  /**
   * Packs the bytes between {@code buffer}'s position and limit (raw little-endian values); the
   * reduced values are written back there. The buffer's position is left alone.
   */
  public void add(ByteBuffer buffer) {
    if (finished) {
      throw new IllegalStateException("this all-reduce is finished");
    }
    type.checkLength(buffer.remaining());
    throwIfFailed();
    if (group.worldSize() == 1) {
      return; // the sum and the mean of one replica's values are its values
    }
    int offset = buffer.position();
    while (offset < buffer.limit()) {
      if (filling == null) {
        filling = takeFree();
      }
      int length = Math.min(buffer.limit() - offset, bucketBytes - filling.filled);
      filling.buffer.put(filling.filled, buffer, offset, length);
      filling.segments.add(new Segment(buffer, offset, filling.filled, length));
      filling.filled += length;
      offset += length;
      if (filling.filled == bucketBytes) {
        submit(filling);
        filling = null;
      }
    }
  }

  /** Reduces what is left, waits for every bucket, and writes the results back into the buffers. */
  public void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (filling != null) {
      if (filling.filled > 0) {
        submit(filling);
      } else {
        free.add(filling);
      }
      filling = null;
    }
    for (int i = 0; i < poolSize; i++) {
      takeFree();
    }
    group.sessionClosed(this);
    throwIfFailed();
  }

  @Override
  public void close() {
    if (!finished) {
      finished = true;
      if (filling != null) {
        free.add(filling);
        filling = null;
      }
      for (int i = 0; i < poolSize; i++) {
        takeFree();
      }
    }
    group.sessionClosed(this);
  }

  private void submit(Bucket bucket) {
    if (communication == null) {
      reduce(bucket);
    } else {
      communication.execute(() -> reduce(bucket));
    }
  }

  private void reduce(Bucket bucket) {
    try {
      if (failure == null) {
        group.reduceInPlace(bucket.buffer, bucket.filled / type.bytes(), type, reduction);
        for (Segment segment : bucket.segments) {
          segment.target.put(
              segment.targetOffset, bucket.buffer, segment.bucketOffset, segment.length);
        }
      }
    } catch (CollectiveException e) {
      if (failure == null) {
        failure = e;
      }
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = new CollectiveException("reducing a bucket failed: " + e, e);
      }
    } finally {
      bucket.segments.clear();
      bucket.filled = 0;
      free.add(bucket);
    }
  }

  private Bucket takeFree() {
    try {
      return free.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CollectiveException("interrupted while waiting for a bucket", e);
    }
  }

  private void throwIfFailed() {
    CollectiveException e = failure;
    if (e != null) {
      throw e;
    }
  }
}
