package dev.mpj.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.DataSpec;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.ModelSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each class of mistake in a csv or npz file is refused before training with the field of the file
 * and the place of the bad value: the line and column, or the array index.
 */
class DataFileMistakesTest {
  @TempDir Path dir;

  @Test
  void csvCellsThatAreNotNumbersAreRefusedByLineAndColumn() throws IOException {
    refusedCsv("a,b,label\n1,2,0\n3,x,1\n", null, null)
        .hasMessageContaining("spec.data.csv.path")
        .hasMessageContaining("line 3, column \"b\": \"x\" is not a number");
    refusedCsv("a,b,label\n1,2,0\n\n3,,1\n", null, null)
        .hasMessageContaining("line 4, column \"b\": the value is empty");
    refusedCsv("a,b,label\n1,2,0\n3,1\n", null, null)
        .hasMessageContaining("line 3: 2 values, but the header has 3 columns");
    refusedCsv("", null, null).hasMessageContaining("is empty; it needs a header row");
    refusedCsv("a,b,label\n", null, null).hasMessageContaining("has a header but no rows");
  }

  @Test
  void csvValuesThatAreNotFiniteAreRefused() throws IOException {
    refusedCsv("a,b,label\n1,NaN,0\n", null, null)
        .hasMessageContaining("line 2, column \"b\": \"NaN\" is not a finite number");
    refusedCsv("a,b,label\n1,2,0\n-Infinity,2,1\n", DataSpec.Task.REGRESSION, null)
        .hasMessageContaining("line 3, column \"a\"");
    refusedCsv("a,b,label\n1,2,1e39\n", DataSpec.Task.REGRESSION, null)
        .hasMessageContaining(
            "line 2, column \"label\": \"1e39\" is not a finite number in float32");
  }

  @Test
  void classLabelsMustBeWholeNumbersFromZero() throws IOException {
    String fractional = "a,b,label\n1,2,0\n3,4,1\n5,6,2.5\n";
    refusedCsv(fractional, null, null)
        .hasMessageContaining("line 4, column \"label\": 2.5 is not a whole number")
        .hasMessageContaining("set spec.data.csv.task: regression");
    assertThat(load(csv(fractional, DataSpec.Task.REGRESSION, null), ModelSpec.Architecture.MLP))
        .extracting(Dataset::kind)
        .as("the same file is fine as a regression task")
        .isEqualTo(Dataset.Kind.REGRESSION);
    refusedCsv("a,b,label\n1,2,0\n3,4,-1\n", null, null)
        .hasMessageContaining("line 3, column \"label\": -1 is negative");
  }

  @Test
  void classLabelsMustBeBelowTheStatedClasses() throws IOException {
    String labels = "a,label\n1,0\n2,3\n3,1\n";
    refusedCsv(labels, DataSpec.Task.CLASSIFICATION, 3)
        .hasMessageContaining(
            "line 3, column \"label\": class 3 is beyond the 3 classes of spec.data.csv.classes");
    Dataset stated = load(csv(labels, null, 5), ModelSpec.Architecture.MLP);
    assertThat(stated.classes()).isEqualTo(5);
    DataSpec fromFile = csv(labels, null, null);
    Dataset unstated = load(fromFile, ModelSpec.Architecture.MLP);
    assertThat(unstated.classes()).as("the largest label + 1").isEqualTo(4);
    assertThat(DataSource.describe(fromFile, unstated))
        .contains("4 classes (the largest label + 1; spec.data.csv.classes states them)");
  }

  @Test
  void npzFeaturesThatAreNotFiniteAreRefusedByIndex() throws IOException {
    float[] x = new float[4 * 3];
    x[1 * 3 + 2] = Float.POSITIVE_INFINITY;
    Path file = npz("x", "<f4", "(4, 3)", floats(x), "y", "<i8", "(4,)", longs(0, 1, 0, 1));
    refused(npzSpec(file, null, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining("spec.data.npz.path")
        .hasMessageContaining(file + ": x[1, 2]: Infinity is not a finite number");
    Path regression =
        npz("x", "<f4", "(3, 1)", floats(1, 2, 3), "y", "<f8", "(3,)", doubles(0.5, Double.NaN, 1));
    refused(npzSpec(regression, DataSpec.Task.REGRESSION, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining(": y[1]: NaN is not a finite number");
  }

  @Test
  void npzClassLabelsAreCheckedLikeCsvOnes() throws IOException {
    Path fractional =
        npz("x", "<f4", "(3, 1)", floats(1, 2, 3), "y", "<f8", "(3,)", doubles(0, 1, 0.5));
    refused(npzSpec(fractional, null, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining(": y[2]: 0.5 is not a whole number")
        .hasMessageContaining("spec.data.npz.task: regression");
    Path beyond = npz("x", "<f4", "(3, 1)", floats(1, 2, 3), "y", "<i8", "(3,)", longs(0, 7, 1));
    refused(npzSpec(beyond, null, 4), ModelSpec.Architecture.MLP)
        .hasMessageContaining(": y[1]: class 7 is beyond the 4 classes of spec.data.npz.classes");
    Path wholeFloats =
        npz("x", "<f4", "(3, 1)", floats(1, 2, 3), "y", "<f4", "(3,)", floats(0, 2, 1));
    assertThat(load(npzSpec(wholeFloats, null, null), ModelSpec.Architecture.MLP).classes())
        .as("float labels that are whole numbers are class indices")
        .isEqualTo(3);
  }

  @Test
  void npzArraysWithWrongNamesOrLengthsAreRefused() throws IOException {
    Path file = npz("x", "<f4", "(4, 2)", floats(new float[8]), "y", "<i8", "(3,)", longs(0, 1, 0));
    DataSpec named = npzSpec(file, null, null);
    named.npz.features = "features";
    refused(named, ModelSpec.Architecture.MLP)
        .hasMessageContaining("spec.data.npz.features")
        .hasMessageContaining("array \"features\" is not in")
        .hasMessageContaining("(arrays: [x, y])");
    refused(npzSpec(file, null, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining("spec.data.npz.labels")
        .hasMessageContaining(
            "array y [3] and array x [4, 2] must have the same number of samples");
  }

  @Test
  void truncatedArchivesAreRefusedWithoutAStackTrace() throws IOException {
    Path whole =
        npz("x", "<f4", "(64, 4)", floats(new float[256]), "y", "<i8", "(64,)", new byte[512]);
    byte[] bytes = Files.readAllBytes(whole);
    Path cut = dir.resolve("cut.npz");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
    refused(npzSpec(cut, null, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining("spec.data.npz.path")
        .hasMessageContaining("cannot read " + cut + " as .npz")
        .hasMessageContaining("(is the archive complete?)");
    Path shortArray =
        npz("x", "<f4", "(64, 4)", floats(new float[100]), "y", "<i8", "(64,)", new byte[512]);
    refused(npzSpec(shortArray, null, null), ModelSpec.Architecture.MLP)
        .hasMessageContaining("array x: truncated: shape (64, 4) of <f4 needs 1024 bytes");
  }

  @Test
  void tokensMustBeIntegersInsideTheVocabulary() throws IOException {
    long[] tokens = {1, 2, 3, 4, 5, 6, 7, 0};
    long[] next = {2, 3, 4, 5, 6, 9, 0, 1};
    Path beyond = npz("x", "<i8", "(2, 4)", longs(tokens), "y", "<i8", "(2, 4)", longs(next));
    DataSpec sequence = npzSpec(beyond, null, null);
    refused(sequence, ModelSpec.Architecture.TRANSFORMER)
        .as("the transformer's npz defaults to task sequence")
        .hasMessageContaining(
            ": y[1, 1]: token id 9 is outside the vocabulary [0, 8) of"
                + " spec.model.transformer.vocabSize");
    Path negative =
        npz("x", "<i4", "(2, 4)", ints(1, 2, 3, -1, 5, 6, 7, 0), "y", "<i8", "(2, 4)", longs(next));
    refused(npzSpec(negative, null, null), ModelSpec.Architecture.TRANSFORMER)
        .hasMessageContaining(": x[0, 3]: token id -1 is outside the vocabulary");
    Path floatTokens =
        npz(
            "x",
            "<f4",
            "(2, 4)",
            floats(1, 2, 3, 4, 5, 6, 7, 0),
            "y",
            "<i8",
            "(2, 4)",
            longs(2, 3, 4, 5, 6, 7, 0, 1));
    refused(npzSpec(floatTokens, null, null), ModelSpec.Architecture.TRANSFORMER)
        .hasMessageContaining("array x holds floats; token ids must be an integer array");
    Path good =
        npz(
            "x",
            "<i8",
            "(2, 4)",
            longs(tokens),
            "y",
            "<i8",
            "(2, 4)",
            longs(2, 3, 4, 5, 6, 7, 0, 1));
    Dataset loaded = load(npzSpec(good, null, null), ModelSpec.Architecture.TRANSFORMER);
    assertThat(loaded.kind()).isEqualTo(Dataset.Kind.SEQUENCE);
    assertThat(loaded.classes()).isEqualTo(8);
  }

  private AbstractThrowableAssert<?, ? extends Throwable> refusedCsv(
      String content, DataSpec.Task task, Integer classes) throws IOException {
    return refused(csv(content, task, classes), ModelSpec.Architecture.MLP);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(
      DataSpec data, ModelSpec.Architecture architecture) {
    return assertThatThrownBy(() -> load(data, architecture))
        .isInstanceOf(InvalidJobException.class);
  }

  private static Dataset load(DataSpec data, ModelSpec.Architecture architecture) {
    MixedPrecisionJobSpec spec = new MixedPrecisionJobSpec();
    spec.model = new ModelSpec();
    spec.model.architecture = architecture;
    spec.model.transformer = new ModelSpec.Transformer();
    spec.model.transformer.vocabSize = 8;
    spec.model.transformer.sequenceLength = 4;
    spec.data = data;
    return DataSource.load(spec);
  }

  private int files;

  private DataSpec csv(String content, DataSpec.Task task, Integer classes) throws IOException {
    Path file = dir.resolve("data" + files++ + ".csv");
    Files.writeString(file, content);
    DataSpec data = new DataSpec();
    data.source = DataSpec.Source.CSV;
    data.csv = new DataSpec.Csv();
    data.csv.path = file.toString();
    data.csv.task = task;
    data.csv.classes = classes;
    return data;
  }

  private static DataSpec npzSpec(Path file, DataSpec.Task task, Integer classes) {
    DataSpec data = new DataSpec();
    data.source = DataSpec.Source.NPZ;
    data.npz = new DataSpec.Npz();
    data.npz.path = file.toString();
    data.npz.task = task;
    data.npz.classes = classes;
    return data;
  }

  private Path npz(
      String xName,
      String xType,
      String xShape,
      byte[] x,
      String yName,
      String yType,
      String yShape,
      byte[] y)
      throws IOException {
    Path file = dir.resolve("data" + files++ + ".npz");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      NpzFiles.add(zip, xName, xType, xShape, x);
      NpzFiles.add(zip, yName, yType, yShape, y);
    }
    return file;
  }

  private static byte[] floats(float... values) {
    return NpzFiles.bytes(
        values.length,
        b -> {
          for (float v : values) {
            b.putFloat(v);
          }
        });
  }

  private static byte[] doubles(double... values) {
    return NpzFiles.bytes(
        values.length * 2,
        b -> {
          for (double v : values) {
            b.putDouble(v);
          }
        });
  }

  private static byte[] longs(long... values) {
    return NpzFiles.bytes(
        values.length * 2,
        b -> {
          for (long v : values) {
            b.putLong(v);
          }
        });
  }

  private static byte[] ints(int... values) {
    return NpzFiles.bytes(
        values.length,
        b -> {
          for (int v : values) {
            b.putInt(v);
          }
        });
  }
}
