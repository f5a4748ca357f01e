package dev.mpj.trainer.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Ring all-reduce: reduce-scatter, then all-gather (Patarasuk and Yuan 2009; what NCCL and Horovod
 * do). The buffer is cut into N chunks; in N-1 steps every rank passes one chunk to its successor
 * and adds the chunk it receives into its own, so each rank ends owning one fully reduced chunk; in
 * N-1 more steps the reduced chunks travel round the ring and are copied. Each rank sends 2(N-1)/N
 * of the buffer whatever N is.
 *
 * <p>Chunk c is summed in a fixed order, starting at rank c: x[c] + x[c+1] + ... + x[c+N-1] (ranks
 * modulo N), each addition in FP32; in FP16 each partial sum crosses the wire as FP16 (rounded to
 * nearest even), and the mean divides the full sum once, in FP32, before the last rounding. Every
 * rank ends with the owner's bytes of every chunk: the result is bit-identical on all ranks.
 */
final class RingAllReduce {

  static final int KIND = 1;

  /**
   * Bytes of the window a rank receives a chunk through while reducing it: with the part of its own
   * chunk it is added into, well inside a core's L2 cache (1 MiB and more on current server CPUs),
   * so the reduction reads what the socket read just wrote from the cache, not from memory.
   */
  static final int WINDOW_BYTES = 256 << 10;

  private final RingLinks links;
  private final int rank;
  private final int worldSize;
  private final ByteBuffer window;
  private final ChunkReducer reducer = new ChunkReducer();

  RingAllReduce(RingLinks links, int rank, int worldSize) {
    this(links, rank, worldSize, WINDOW_BYTES);
  }

  /**
   * @param windowBytes the receive window's size (tests make it small and odd, so that chunks pass
   *     through it in many reads, with elements split between reads)
   */
  RingAllReduce(RingLinks links, int rank, int worldSize, int windowBytes) {
    this.links = links;
    this.rank = rank;
    this.worldSize = worldSize;
    this.window = ByteBuffer.allocateDirect(windowBytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The first element of chunk {@code chunk} when {@code elements} are cut into {@code worldSize}
   * chunks.
   */
  static int chunkStart(int elements, int worldSize, int chunk) {
    return (int) ((long) elements * chunk / worldSize);
  }

  /**
   * Reduces {@code elements} values of {@code type} at the start of {@code data} (little-endian) in
   * place.
   */
  void run(int operation, ByteBuffer data, int elements, ElementType type, Reduction reduction) {
    int size = type.bytes();
    for (int step = 0; step < worldSize - 1; step++) {
      int sendChunk = Math.floorMod(rank - step, worldSize);
      int recvChunk = Math.floorMod(rank - step - 1, worldSize);
      int recvOffset = chunkStart(elements, worldSize, recvChunk) * size;
      int recvBytes = chunkStart(elements, worldSize, recvChunk + 1) * size - recvOffset;
      int divisor = step == worldSize - 2 && reduction == Reduction.MEAN ? worldSize : 1;
      links.exchangeThroughWindow(
          operation,
          KIND,
          chunk(data, elements, sendChunk, size),
          recvBytes,
          window,
          (received, from, length) ->
              add(type, data, recvOffset + from, received, 0, length / size, divisor),
          size);
    }
    for (int step = 0; step < worldSize - 1; step++) {
      int sendChunk = Math.floorMod(rank + 1 - step, worldSize);
      int recvChunk = Math.floorMod(rank - step, worldSize);
      links.exchange(
          operation,
          KIND,
          chunk(data, elements, sendChunk, size),
          chunk(data, elements, recvChunk, size),
          null,
          size);
    }
  }

  private ByteBuffer chunk(ByteBuffer data, int elements, int chunk, int size) {
    ByteBuffer view = data.duplicate();
    view.limit(chunkStart(elements, worldSize, chunk + 1) * size)
        .position(chunkStart(elements, worldSize, chunk) * size);
    return view;
  }

  /** data[i] = (in[i] + data[i]) / divisor for {@code count} elements, accumulating in FP32. */
  void add(
      ElementType type,
      ByteBuffer data,
      int dataOffset,
      ByteBuffer in,
      int inOffset,
      int count,
      int divisor) {
    reducer.add(type, data, dataOffset, in, inOffset, count, divisor);
  }
}
