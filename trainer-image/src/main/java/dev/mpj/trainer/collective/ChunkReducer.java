package dev.mpj.trainer.collective;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Adds a received chunk into this rank's chunk. With the Vector API ({@link #VECTORISED}) in one
 * pass of SIMD lanes over both buffers ({@link VectorChunkReducer}); without it in blocks: both are
 * copied out of their (direct, little-endian) buffers by bulk copies into arrays reused from call
 * to call, summed by plain array loops the JIT compiles to SIMD instructions, and copied back.
 * Per-element {@code ByteBuffer.getFloat}/{@code putFloat} with their bounds and order checks cost
 * more than the wire. The arithmetic is that of the scalar definition, element by element, so
 * results are bit-identical to it.
 */
final class ChunkReducer {

  /**
   * Whether {@link VectorChunkReducer} does the work: the JVM was started with {@code --add-modules
   * jdk.incubator.vector} (every launcher of the trainer does), its optimising compiler C2 runs
   * (without C2 the Vector API is not compiled to SIMD instructions but runs as objects, many times
   * slower than the arrays: tests start replicas with {@code -XX:TieredStopAtLevel=1}), and {@code
   * -Dmpj.collective.vector=false} does not turn it off (the benchmark's comparison). Otherwise the
   * arrays below.
   */
  static final boolean VECTORISED =
      vectorModuleAdded()
          && optimisingCompilerRuns()
          && !"false".equals(System.getProperty("mpj.collective.vector"));

  /** What {@link #VECTORISED} chose, in words: for logs and the benchmark. */
  static String implementation() {
    if (VECTORISED) {
      return "Vector API, " + VectorChunkReducer.lanes() + " float lanes";
    }
    String why =
        !vectorModuleAdded()
            ? "jdk.incubator.vector not added"
            : !optimisingCompilerRuns() ? "no C2 compiler" : "-Dmpj.collective.vector=false";
    return "arrays (" + why + ")";
  }

  private static boolean vectorModuleAdded() {
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  private static boolean optimisingCompilerRuns() {
    try {
      HotSpotDiagnosticMXBean vm =
          ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      return vm == null || Integer.parseInt(vm.getVMOption("TieredStopAtLevel").getValue()) >= 4;
    } catch (RuntimeException e) {
      return true; // not HotSpot, or the option is gone: assume an optimising JIT
    }
  }

  /** Elements per block: the four arrays stay in the L2 cache. */
  static final int BLOCK = 8192;

  private final VectorChunkReducer vector;

  /** A reducer that uses the Vector API when {@link #VECTORISED}. */
  ChunkReducer() {
    this(VECTORISED);
  }

  /**
   * @param vectorised use {@link VectorChunkReducer} (only when the module is there) or the arrays
   */
  ChunkReducer(boolean vectorised) {
    this.vector = vectorised ? new VectorChunkReducer() : null;
  }

  private final float[] sums = new float[BLOCK];
  private final float[] received = new float[BLOCK];
  private final short[] ownHalves = new short[BLOCK];
  private final short[] receivedHalves = new short[BLOCK];

  /** data[i] = (in[i] + data[i]) / divisor for {@code count} elements, accumulating in FP32. */
  void add(
      ElementType type,
      ByteBuffer data,
      int dataOffset,
      ByteBuffer in,
      int inOffset,
      int count,
      int divisor) {
    if (vector != null) {
      vector.add(
          type,
          data.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN), // a duplicate is big-endian
          dataOffset,
          in.duplicate().order(ByteOrder.LITTLE_ENDIAN),
          inOffset,
          count,
          divisor);
      return;
    }
    ByteBuffer own = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer theirs = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = type.bytes();
    for (int done = 0; done < count; done += BLOCK) {
      int n = Math.min(BLOCK, count - done);
      own.limit(own.capacity()).position(dataOffset + done * size);
      theirs.limit(theirs.capacity()).position(inOffset + done * size);
      if (type == ElementType.FP32) {
        own.asFloatBuffer().get(sums, 0, n);
        theirs.asFloatBuffer().get(received, 0, n);
        addFloats(received, sums, n, divisor);
        own.asFloatBuffer().put(sums, 0, n);
      } else {
        own.asShortBuffer().get(ownHalves, 0, n);
        theirs.asShortBuffer().get(receivedHalves, 0, n);
        Half.toFloat(ownHalves, sums, n);
        Half.toFloat(receivedHalves, received, n);
        addFloats(received, sums, n, divisor);
        Half.fromFloat(sums, ownHalves, n);
        own.asShortBuffer().put(ownHalves, 0, n);
      }
    }
  }

  /**
   * sums[i] = (in[i] + sums[i]) / divisor: two loops without a branch inside, so each vectorises.
   */
  static void addFloats(float[] in, float[] sums, int n, int divisor) {
    if (divisor == 1) {
      for (int i = 0; i < n; i++) {
        sums[i] = in[i] + sums[i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        sums[i] = (in[i] + sums[i]) / divisor;
      }
    }
  }
}
