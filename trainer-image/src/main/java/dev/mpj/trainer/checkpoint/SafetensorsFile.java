package dev.mpj.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian header length, a JSON
 * header mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets}
 * (relative to the end of the header), then the raw little-endian data, in header order.
 *
 * <p>Written here rather than with DJL's {@code NDList.encode(SAFETENSORS)}: that encoder needs
 * native arrays (the background writer holds a snapshot in its own memory), keeps offsets in an
 * {@code int} (files over 2 GiB fail) and orders the header by hash. DJL's decoder reads these
 * files (tested). A file is laid out in memory first ({@link #layout}), as it will lie on the disk,
 * so that the snapshot's copy of the values is the only one before the disk reads them.
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

  /** A tensor's name and shape (FP32): one entry of a file's header. */
  public record Entry(String name, long[] shape) {
    /** Its values' size in bytes. */
    public long bytes() {
      long elements = 1;
      for (long d : shape) {
        elements *= d;
      }
      return elements * Float.BYTES;
    }
  }

  /**
   * A file of {@code entries} laid out in {@code image}: the header is in place, and tensor {@code
   * i}'s values go at {@code offsets[i]} (from the start of the file).
   */
  public record Image(List<Entry> entries, long[] offsets, FileImage image) {
    /** Copies tensor {@code i}'s values (little-endian FP32 bytes, all of them) into the image. */
    public void put(int i, ByteBuffer values) {
      if (values.remaining() != entries.get(i).bytes()) {
        throw new IllegalArgumentException(
            entries.get(i).name()
                + ": "
                + values.remaining()
                + " bytes for "
                + entries.get(i).bytes()
                + " bytes of FP32 values");
      }
      image.put(offsets[i], values);
    }

    /** The values' bytes, without the header. */
    public long dataBytes() {
      long total = 0;
      for (Entry e : entries) {
        total += e.bytes();
      }
      return total;
    }
  }

  /**
   * Lays out a file of {@code entries} in a {@link FileImage} ({@code reuse}'s memory when it has
   * the same length) and writes its header there; the caller copies the values in.
   */
  public static Image layout(List<Entry> entries, FileImage reuse) {
    Map<String, Object> header = new LinkedHashMap<>();
    long offset = 0;
    for (Entry t : entries) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", "F32");
      entry.put("shape", t.shape());
      entry.put("data_offsets", new long[] {offset, offset + t.bytes()});
      header.put(t.name(), entry);
      offset += t.bytes();
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // The data starts 8-byte aligned, as the reference writer pads it: pad the header with spaces.
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    FileImage image = FileImage.of(8L + padded + offset, reuse);
    image.put(0, head.array());
    long[] offsets = new long[entries.size()];
    long at = 8L + padded;
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = at;
      at += entries.get(i).bytes();
    }
    return new Image(List.copyOf(entries), offsets, image);
  }

  /**
   * Writes the tensors to {@code file} (a new file) and forces them to the disk, as a snapshot's
   * image is written ({@link FileImage#writeNew}); returns its size and CRC32C.
   */
  public static FileImage.Written write(Path file, List<Tensor> tensors) throws IOException {
    List<Entry> entries = new ArrayList<>();
    for (Tensor t : tensors) {
      entries.add(new Entry(t.name(), t.shape()));
    }
    Image image = layout(entries, null);
    for (int i = 0; i < tensors.size(); i++) {
      image.put(i, ByteBuffer.wrap(tensors.get(i).data()));
    }
    return image.image().writeNew(file);
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
}
