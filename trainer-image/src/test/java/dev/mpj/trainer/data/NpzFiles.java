package dev.mpj.trainer.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes .npy entries into a zip the way np.savez does, for tests. */
public final class NpzFiles {
  private NpzFiles() {}

  public static void add(ZipOutputStream zip, String name, String dtype, String shape, byte[] data)
      throws IOException {
    String header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + header.length() + 1;
    header = header + " ".repeat((64 - total % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >> 8);
    out.write(header.getBytes(StandardCharsets.US_ASCII));
    out.write(data);
    zip.putNextEntry(new ZipEntry(name + ".npy"));
    zip.write(out.toByteArray());
    zip.closeEntry();
  }

  public static byte[] bytes(int width, Consumer<ByteBuffer> fill) {
    ByteBuffer b = ByteBuffer.allocate(64 * width).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(b);
    byte[] out = new byte[b.position()];
    b.flip();
    b.get(out);
    return out;
  }
}
