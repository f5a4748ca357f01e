package dev.mpj.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mpj.api.DataSpec;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table of errors in docs/concepts/data.md is what the trainer prints: each mistake is made
 * again here, in a folder {@code data/}, and its message must appear in the table word for word.
 */
class DataDocErrorsTest {
  @TempDir Path dir;

  private String doc;

  @BeforeEach
  void readDoc() throws IOException {
    doc = Files.readString(Path.of("..", "docs", "concepts", "data.md"));
    Files.createDirectories(dir.resolve("data"));
  }

  @Test
  void csvMistakes() throws IOException {
    documented(csv("frac", "f0,f1,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,2.5\n", null));
    documented(csv("beyond", "f0,f1,label\n0.1,0.2,0\n0.3,0.4,3\n", 3));
    documented(csv("text", "f0,f1,label\n0.1,0.2,0\n0.3,abc,1\n", null));
    documented(csv("empty", "f0,f1,label\n0.1,0.2,0\n0.3,,1\n", null));
    documented(csv("ragged", "f0,f1,label\n0.1,0.2,0\n0.3,1\n", null));
    documented(csv("nan", "f0,f1,label\n0.1,NaN,0\n0.3,0.4,1\n", null));
  }

  @Test
  void npzMistakes() throws IOException {
    byte[] x = floats(256, i -> i == 17 * 4 + 2 ? Float.POSITIVE_INFINITY : 0.5f);
    byte[] y = longs(64, i -> i % 2);
    documented(
        npz("inf", "x", "<f4", "(64, 4)", x, "y", "<i8", "(64,)", y, ModelSpec.Architecture.MLP));
    byte[] fine = floats(256, i -> 0.5f);
    documented(
        npz(
            "fracy",
            "x",
            "<f4",
            "(64, 4)",
            fine,
            "y",
            "<i8",
            "(64,)",
            longs(64, i -> i == 9 ? -1 : i % 2),
            ModelSpec.Architecture.MLP));
    documented(
        npz(
            "names",
            "features",
            "<f4",
            "(64, 4)",
            fine,
            "labels",
            "<i8",
            "(64,)",
            y,
            ModelSpec.Architecture.MLP));
    documented(
        npz(
            "len",
            "x",
            "<f4",
            "(64, 4)",
            fine,
            "y",
            "<i8",
            "(60,)",
            longs(60, i -> i % 2),
            ModelSpec.Architecture.MLP));
    documented(
        npz(
            "short",
            "x",
            "<f4",
            "(64, 4)",
            floats(100, i -> 0.5f),
            "y",
            "<i8",
            "(64,)",
            y,
            ModelSpec.Architecture.MLP));
    MixedPrecisionJobSpec whole =
        npz("cut", "x", "<f4", "(64, 4)", fine, "y", "<i8", "(64,)", y, ModelSpec.Architecture.MLP);
    Path cut = Path.of(whole.data.npz.path);
    byte[] bytes = Files.readAllBytes(cut);
    Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
    documented(whole);
    byte[] tokens = longs(32, i -> i % 8);
    documented(
        npz(
            "vocab",
            "x",
            "<i8",
            "(8, 4)",
            tokens,
            "y",
            "<i8",
            "(8, 4)",
            longs(32, i -> i == 5 * 4 + 3 ? 300 : i % 8),
            ModelSpec.Architecture.TRANSFORMER));
    documented(
        npz(
            "floattok",
            "x",
            "<f4",
            "(8, 4)",
            floats(32, i -> i % 8),
            "y",
            "<i8",
            "(8, 4)",
            tokens,
            ModelSpec.Architecture.TRANSFORMER));
  }

  private void documented(MixedPrecisionJobSpec spec) {
    InvalidJobException refused =
        catchThrowableOfType(InvalidJobException.class, () -> DataSource.load(spec));
    assertThat(refused).as("refused").isNotNull();
    String message = refused.getMessage().replace(dir + "/", "");
    assertThat(doc).as("docs/concepts/data.md lists the message").contains("`" + message + "`");
  }

  private MixedPrecisionJobSpec csv(String name, String content, Integer classes)
      throws IOException {
    Path file = dir.resolve("data").resolve(name + ".csv");
    Files.writeString(file, content);
    MixedPrecisionJobSpec spec = spec(ModelSpec.Architecture.MLP);
    spec.data.source = DataSpec.Source.CSV;
    spec.data.csv = new DataSpec.Csv();
    spec.data.csv.path = file.toString();
    spec.data.csv.classes = classes;
    return spec;
  }

  private MixedPrecisionJobSpec npz(
      String name,
      String xName,
      String xType,
      String xShape,
      byte[] x,
      String yName,
      String yType,
      String yShape,
      byte[] y,
      ModelSpec.Architecture architecture)
      throws IOException {
    Path file = dir.resolve("data").resolve(name + ".npz");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      NpzFiles.add(zip, xName, xType, xShape, x);
      NpzFiles.add(zip, yName, yType, yShape, y);
    }
    MixedPrecisionJobSpec spec = spec(architecture);
    spec.data.source = DataSpec.Source.NPZ;
    spec.data.npz = new DataSpec.Npz();
    spec.data.npz.path = file.toString();
    return spec;
  }

  private static MixedPrecisionJobSpec spec(ModelSpec.Architecture architecture) {
    MixedPrecisionJobSpec spec = new MixedPrecisionJobSpec();
    spec.model = new ModelSpec();
    spec.model.architecture = architecture;
    spec.model.transformer = new ModelSpec.Transformer();
    spec.model.transformer.vocabSize = 256;
    spec.model.transformer.sequenceLength = 4;
    spec.data = new DataSpec();
    return spec;
  }

  /** Values as function of their flat index. */
  private interface Value {
    double at(int index);
  }

  private static byte[] floats(int count, Value value) {
    return bytes(count * 4, b -> fill(count, i -> b.putFloat((float) value.at(i))));
  }

  private static byte[] longs(int count, Value value) {
    return bytes(count * 8, b -> fill(count, i -> b.putLong((long) value.at(i))));
  }

  private static void fill(int count, java.util.function.IntConsumer put) {
    for (int i = 0; i < count; i++) {
      put.accept(i);
    }
  }

  private static byte[] bytes(int size, Consumer<ByteBuffer> fill) {
    return NpzFiles.bytes((size + 63) / 64, fill);
  }
}
