package dev.mpj.trainer.checkpoint;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * A file's bytes in direct memory, laid out as they will lie on the disk, in segments of {@link
 * #SEGMENT_BYTES} (the last one shorter), each starting on a {@link #ALIGNMENT} boundary and padded
 * to a multiple of it: what {@code O_DIRECT} writes need. A snapshot copies the tensors' values
 * straight in; {@link #writeNew} hands the segments to the kernel, which, with {@code O_DIRECT},
 * lets the disk read them where they lie (no copy into the page cache), while a second thread
 * computes the CRC32C of the same memory. An image is reused from checkpoint to checkpoint: its
 * memory is allocated once.
 */
public final class FileImage {

  /** Memory and write alignment: the block size of every common Linux file system and disk. */
  static final int ALIGNMENT = 4096;

  /** Bytes per segment, i.e. per write: large writes for the disk's full speed. */
  static final int SEGMENT_BYTES = 16 << 20;

  /** Computes checksums beside the writes: one daemon thread for every image of the process. */
  private static final ExecutorService CHECKSUMS =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "checkpoint-checksum");
            t.setDaemon(true);
            return t;
          });

  private final ByteBuffer[] segments;
  private final long length;

  /**
   * What {@link #writeNew} wrote: the file's size and CRC32C (hex, as state.json has it), and
   * whether it went to the disk with {@code O_DIRECT} (else through the page cache).
   */
  public record Written(long bytes, String crc32c, boolean direct) {}

  private FileImage(long length) {
    if (length < 0) {
      throw new IllegalArgumentException("a file of " + length + " bytes");
    }
    this.length = length;
    int count = Math.toIntExact((length + SEGMENT_BYTES - 1) / SEGMENT_BYTES);
    segments = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      int bytes = (int) Math.min(SEGMENT_BYTES, length - (long) i * SEGMENT_BYTES);
      int padded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
      segments[i] =
          ByteBuffer.allocateDirect(padded + ALIGNMENT).alignedSlice(ALIGNMENT).limit(padded);
    }
  }

  /**
   * An image of {@code length} bytes: {@code reuse}'s memory when it has that length, else new
   * memory (a run's checkpoints all have the same length; {@code reuse} may be null).
   */
  static FileImage of(long length, FileImage reuse) {
    return reuse != null && reuse.length == length ? reuse : new FileImage(length);
  }

  public long length() {
    return length;
  }

  /** Copies {@code source}'s remaining bytes to {@code offset}; its position is left alone. */
  void put(long offset, ByteBuffer source) {
    int remaining = source.remaining();
    if (offset < 0 || offset + remaining > length) {
      throw new IndexOutOfBoundsException(
          remaining + " bytes at " + offset + " do not fit in a file of " + length);
    }
    int from = source.position();
    while (remaining > 0) {
      int segment = (int) (offset / SEGMENT_BYTES);
      int at = (int) (offset % SEGMENT_BYTES);
      int n = Math.min(remaining, SEGMENT_BYTES - at);
      segments[segment].put(at, source, from, n);
      from += n;
      offset += n;
      remaining -= n;
    }
  }

  void put(long offset, byte[] source) {
    put(offset, ByteBuffer.wrap(source));
  }

  /** {@code count} bytes from {@code offset}. */
  byte[] get(long offset, int count) {
    byte[] out = new byte[count];
    for (int done = 0; done < count; ) {
      long at = offset + done;
      int segment = (int) (at / SEGMENT_BYTES);
      int within = (int) (at % SEGMENT_BYTES);
      int n = Math.min(count - done, SEGMENT_BYTES - within);
      segments[segment].get(within, out, done, n);
      done += n;
    }
    return out;
  }

  /** The CRC32C of the file's bytes. */
  String crc32c() {
    CRC32C crc = new CRC32C();
    for (int i = 0; i < segments.length; i++) {
      crc.update(segment(i)); // a direct buffer: the intrinsic reads it where it lies
    }
    return Checksums.hex(crc);
  }

  /** The file's bytes in segment {@code i}, without the padding. */
  private ByteBuffer segment(int i) {
    return segments[i]
        .duplicate()
        .clear()
        .limit((int) Math.min(SEGMENT_BYTES, length - (long) i * SEGMENT_BYTES));
  }

  /**
   * Writes the image to {@code file} (a new file) and forces it to the disk; the CRC32C is computed
   * on another thread while the segments are written. Written with {@code O_DIRECT} where the file
   * system takes it (the padded last segment, then the file truncated to its length), else through
   * the page cache.
   */
  public Written writeNew(Path file) throws IOException {
    return writeNew(file, checksumInBackground(), true);
  }

  /**
   * Starts computing the CRC32C on the checksum thread, for {@link #writeNew(Path, Future,
   * boolean)}: a writer of several images starts them all first, so that the thread is never idle
   * while the disk works. The image must not change until the result is in.
   */
  Future<String> checksumInBackground() {
    return CHECKSUMS.submit(this::crc32c);
  }

  /**
   * {@link #writeNew(Path)} with the CRC32C that {@code checksum} computes (from {@link
   * #checksumInBackground()}), through the page cache unless {@code tryDirect}.
   */
  Written writeNew(Path file, Future<String> checksum, boolean tryDirect) throws IOException {
    return writeNew(file, checksum, tryDirect, DiskFullFault.Space.unlimited());
  }

  /**
   * {@link #writeNew(Path, Future, boolean)} on a volume with {@code space} left: when a segment
   * does not fit, what fits is written (whole blocks with {@code O_DIRECT}) and "No space left on
   * device" is thrown, as the kernel's ENOSPC would be.
   */
  Written writeNew(Path file, Future<String> checksum, boolean tryDirect, DiskFullFault.Space space)
      throws IOException {
    try {
      FileChannel opened =
          tryDirect && directIoPossible(file.toAbsolutePath().getParent())
              ? openDirect(file)
              : null;
      boolean direct = opened != null;
      FileChannel channel =
          direct
              ? opened
              : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      try (channel) {
        for (int i = 0; i < segments.length; i++) {
          ByteBuffer out = direct ? segments[i].duplicate().clear() : segment(i);
          int fileBytes = segment(i).remaining(); // the padding is not the file's
          boolean full = space.isFull(fileBytes);
          if (full) {
            long fits = space.fitting(fileBytes);
            out.limit(out.position() + (int) (direct ? fits / ALIGNMENT * ALIGNMENT : fits));
          }
          space.took(Math.min(fileBytes, out.remaining()));
          while (out.hasRemaining()) {
            channel.write(out);
          }
          if (full) {
            throw space.full(file);
          }
        }
        if (direct) {
          channel.truncate(length); // the last segment went out with its padding
        }
        channel.force(true);
      }
      return new Written(length, checksum.get(), direct);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while checksumming " + file, e);
    } catch (ExecutionException e) {
      throw new IOException("checksumming " + file + " failed: " + e.getCause(), e.getCause());
    } finally {
      checksum.cancel(false);
    }
  }

  /**
   * A new file opened for writing with {@code O_DIRECT}, or null when the file system refuses it
   * (tmpfs, some network file systems).
   */
  private static FileChannel openDirect(Path file) throws IOException {
    try {
      return FileChannel.open(
          file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (IOException | UnsupportedOperationException e) {
      Files.deleteIfExists(file); // open may have created it before refusing the flag
      return null;
    }
  }

  /** Whether the folder's file system has blocks that {@link #ALIGNMENT} is a multiple of. */
  private static boolean directIoPossible(Path folder) {
    try {
      long block = Files.getFileStore(folder).getBlockSize();
      return block > 0 && block <= ALIGNMENT && ALIGNMENT % block == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
