package dev.mpj.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length, a JSON
 * header mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets}
 * (relative to the end of the header), then the raw little-endian data, in header order.
 *
 * <p>Written here rather than with DJL's {@code NDList.encode(SAFETENSORS)}: that encoder needs
 * native arrays (the background writer holds host byte arrays), keeps offsets in an {@code int}
 * (files over 2 GiB fail) and orders the header by hash. DJL's decoder reads these files (tested).
 */
public final class SafetensorsFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SafetensorsFile() {}

  /**
   * One FP32 tensor, its values as little-endian bytes (what {@code NDArray.toByteArray()} gives).
   */
  public record Tensor(String name, long[] shape, byte[] data) {
    public Tensor {
      long elements = 1;
      for (long d : shape) {
        elements *= d;
      }
      if (elements * Float.BYTES != data.length) {
        throw new IllegalArgumentException(
            name + ": " + data.length + " bytes for " + elements + " FP32 values");
      }
    }
  }

  /** What {@link #write} wrote: the file's size and CRC32C (hex, as state.json format 2 has it). */
  public record Written(long bytes, String crc32c) {}

  /** Bytes per write: large enough for the disk's full speed, small enough to keep in memory. */
  static final int WRITE_BYTES = 8 << 20;

  /**
   * A direct buffer per writing thread, reused: the one copy out of the Java heap that the kernel
   * needs (FileChannel would otherwise make it into a temporary buffer as large as each tensor).
   */
  private static final ThreadLocal<ByteBuffer> STAGING =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(WRITE_BYTES));

  /**
   * Writes the tensors to {@code file} (a new file) in {@link #WRITE_BYTES} writes and forces them
   * to the disk. The CRC32C is taken from the bytes as they go out, not by reading the file back.
   */
  public static Written write(Path file, List<Tensor> tensors) throws IOException {
    ByteBuffer staging = STAGING.get();
    Map<String, Object> header = new LinkedHashMap<>();
    long offset = 0;
    for (Tensor t : tensors) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", "F32");
      entry.put("shape", t.shape());
      entry.put("data_offsets", new long[] {offset, offset + t.data().length});
      header.put(t.name(), entry);
      offset += t.data().length;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    // The data starts 8-byte aligned, as the reference writer pads it: pad the header with spaces.
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    CRC32C crc = new CRC32C();
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      staging.clear();
      append(channel, staging, crc, head.array());
      for (Tensor t : tensors) {
        append(channel, staging, crc, t.data());
      }
      staging.flip();
      writeFully(channel, staging);
      channel.force(true);
      return new Written(8L + padded + offset, Checksums.hex(crc));
    }
  }

  /** Copies {@code bytes} into {@code staging}, writing it out each time it fills. */
  private static void append(FileChannel channel, ByteBuffer staging, CRC32C crc, byte[] bytes)
      throws IOException {
    crc.update(bytes);
    for (int at = 0; at < bytes.length; ) {
      int length = Math.min(staging.remaining(), bytes.length - at);
      staging.put(bytes, at, length);
      at += length;
      if (!staging.hasRemaining()) {
        staging.flip();
        writeFully(channel, staging);
        staging.clear();
      }
    }
  }

  /**
   * Reads every tensor of a file this class wrote (FP32 only); throws on a malformed or truncated
   * file.
   */
  public static List<Tensor> read(Path file) throws IOException {
    return parse(file.getFileName().toString(), Files.readAllBytes(file));
  }

  /** The tensors of a file's bytes ({@code name} for messages); throws when malformed. */
  static List<Tensor> parse(String name, byte[] bytes) throws IOException {
    if (bytes.length < 8) {
      throw new IOException(name + ": truncated (" + bytes.length + " bytes)");
    }
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 2 || 8 + headerLength > bytes.length) {
      throw new IOException(
          name + ": header length " + headerLength + " does not fit in " + bytes.length + " bytes");
    }
    JsonNode header =
        JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
    int dataStart = 8 + (int) headerLength;
    List<Tensor> tensors = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode entry = e.getValue();
      if (!"F32".equals(entry.path("dtype").asText())) {
        throw new IOException(
            name + ": " + e.getKey() + " is " + entry.path("dtype").asText() + ", not F32");
      }
      long[] shape = new long[entry.path("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = entry.path("shape").get(i).asLong();
      }
      long begin = entry.path("data_offsets").path(0).asLong(-1);
      long end = entry.path("data_offsets").path(1).asLong(-1);
      if (begin < 0 || end < begin || dataStart + end > bytes.length) {
        throw new IOException(name + ": " + e.getKey() + " lies outside the file (truncated?)");
      }
      byte[] data = new byte[(int) (end - begin)];
      System.arraycopy(bytes, dataStart + (int) begin, data, 0, data.length);
      tensors.add(new Tensor(e.getKey(), shape, data));
    }
    return tensors;
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }
}
