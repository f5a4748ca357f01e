package dev.mpj.trainer.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A reader for NumPy {@code .npz} archives: a zip of {@code .npy} files. Reads little-endian,
 * C-ordered arrays of float32, float64, int8/16/32/64 and uint8, as {@code np.savez} writes them.
 */
public final class Npz {

  /**
   * One array: its values widened to float, its shape, and whether its dtype is an integer type.
   */
  public record NpyArray(float[] values, long[] shape, boolean integral) {}

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private Npz() {}

  /** Names of the arrays in the archive. */
  public static List<String> names(Path file) throws IOException {
    List<String> names = new ArrayList<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      zip.stream()
          .map(ZipEntry::getName)
          .filter(n -> n.endsWith(".npy"))
          .forEach(n -> names.add(n.substring(0, n.length() - 4)));
    }
    return names;
  }

  /** Reads the named arrays; a name not in the archive is absent from the result. */
  public static Map<String, NpyArray> read(Path file, List<String> wanted) throws IOException {
    Map<String, NpyArray> arrays = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      for (String name : wanted) {
        ZipEntry entry = zip.getEntry(name + ".npy");
        if (entry != null) {
          try (InputStream in = zip.getInputStream(entry)) {
            arrays.put(name, parse(in.readAllBytes()));
          } catch (IOException e) {
            throw new IOException("array " + name + ": " + e.getMessage(), e);
          }
        }
      }
    }
    return arrays;
  }

  static NpyArray parse(byte[] bytes) throws IOException {
    try {
      return parseChecked(bytes);
    } catch (BufferUnderflowException
        | IndexOutOfBoundsException
        | IllegalArgumentException
        | NegativeArraySizeException e) {
      throw new IOException("malformed .npy data (" + e + ")", e);
    }
  }

  private static NpyArray parseChecked(byte[] bytes) throws IOException {
    if (bytes.length < 10
        || (bytes[0] & 0xff) != 0x93
        || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new IOException("not a .npy array (bad magic)");
    }
    int major = bytes[6];
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength;
    int offset;
    if (major == 1) {
      headerLength = buffer.getShort(8) & 0xffff;
      offset = 10;
    } else {
      headerLength = buffer.getInt(8);
      offset = 12;
    }
    if (headerLength < 0 || offset + headerLength > bytes.length) {
      throw new IOException("truncated .npy header");
    }
    String header = new String(bytes, offset, headerLength, StandardCharsets.ISO_8859_1);
    String descr = group(DESCR, header, "descr");
    if ("True".equals(group(FORTRAN, header, "fortran_order"))) {
      throw new IOException(
          "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
    }
    String dims = group(SHAPE, header, "shape").trim();
    List<Long> shape = new ArrayList<>();
    for (String d : dims.split(",")) {
      if (!d.isBlank()) {
        long dimension;
        try {
          dimension = Long.parseLong(d.trim());
        } catch (NumberFormatException e) {
          throw new IOException("bad .npy shape (" + dims + ")");
        }
        if (dimension < 0) {
          throw new IOException("bad .npy shape (" + dims + ")");
        }
        shape.add(dimension);
      }
    }
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    if (count > Integer.MAX_VALUE) {
      throw new IOException("array of " + count + " values is too large");
    }
    long needed = count * itemSize(descr);
    long held = bytes.length - (long) (offset + headerLength);
    if (held < needed) {
      throw new IOException(
          "truncated: shape ("
              + dims
              + ") of "
              + descr
              + " needs "
              + needed
              + " bytes of data, the archive holds "
              + held);
    }
    buffer.position(offset + headerLength);
    float[] values = new float[(int) count];
    boolean integral = true;
    switch (descr) {
      case "<f4" -> {
        integral = false;
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.getFloat();
        }
      }
      case "<f8" -> {
        integral = false;
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) buffer.getDouble();
        }
      }
      case "<i8" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.getLong();
        }
      }
      case "<i4" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.getInt();
        }
      }
      case "<i2" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.getShort();
        }
      }
      case "|i1" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.get();
        }
      }
      case "|u1" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.get() & 0xff;
        }
      }
      default ->
          throw new IOException(
              "dtype "
                  + descr
                  + " is not supported (float32, float64, int8/16/32/64, uint8, little-endian)");
    }
    return new NpyArray(values, shape.stream().mapToLong(Long::longValue).toArray(), integral);
  }

  /** Bytes per value of a dtype; 0 for one this reader does not know, which parse then refuses. */
  private static int itemSize(String descr) {
    return switch (descr) {
      case "<f8", "<i8" -> 8;
      case "<f4", "<i4" -> 4;
      case "<i2" -> 2;
      case "|i1", "|u1" -> 1;
      default -> 0;
    };
  }

  private static String group(Pattern pattern, String header, String key) throws IOException {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new IOException("bad .npy header: no " + key + " in " + header.trim());
    }
    return m.group(1);
  }
}
