package dev.mpj.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.DataSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataTest {
  @TempDir Path dir;

  @Test
  void dataOrderResumesExactlyFromItsPosition() {
    DataOrder uninterrupted = new DataOrder(10, 7);
    int[] first = uninterrupted.next(13);
    int[] rest = uninterrupted.next(9);

    DataOrder before = new DataOrder(10, 7);
    before.next(13);
    DataOrder resumed = new DataOrder(10, 7, before.epoch(), before.index());
    assertThat(resumed.next(9)).containsExactly(rest);
    assertThat(before.epoch()).isEqualTo(1);
    // every epoch visits every sample once
    int[] epoch0 = Arrays.copyOf(first, 10);
    Arrays.sort(epoch0);
    assertThat(epoch0).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(new DataOrder(10, 8).next(10)).isNotEqualTo(Arrays.copyOf(first, 10));
  }

  @Test
  void validationSplitDependsOnlyOnTheSeed() {
    Dataset all = SyntheticData.classification(100, new int[] {4}, 3, 1);
    DataSplit a = DataSplit.of(all, 0.2, 5);
    DataSplit b = DataSplit.of(all, 0.2, 5);
    assertThat(a.validation().samples()).isEqualTo(20);
    assertThat(a.train().samples()).isEqualTo(80);
    assertThat(a.validation().inputs()).containsExactly(b.validation().inputs());
    assertThat(DataSplit.of(all, 0.2, 6).validation().inputs())
        .isNotEqualTo(a.validation().inputs());
  }

  @Test
  void readsNpzArraysOfEachDtype() throws IOException {
    Path file = dir.resolve("data.npz");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      NpzFiles.add(
          zip,
          "x",
          "<f8",
          "(2, 3)",
          NpzFiles.bytes(
              8,
              b -> {
                for (double v : new double[] {1.5, -2, 3, 4, 5, 6.25}) {
                  b.putDouble(v);
                }
              }));
      NpzFiles.add(zip, "y", "<i8", "(2,)", NpzFiles.bytes(8, b -> b.putLong(3).putLong(1)));
      NpzFiles.add(zip, "z", "<i4", "(2,)", NpzFiles.bytes(4, b -> b.putInt(-1).putInt(7)));
    }
    Map<String, Npz.NpyArray> arrays = Npz.read(file, List.of("x", "y", "z", "missing"));
    assertThat(arrays).containsOnlyKeys("x", "y", "z");
    assertThat(arrays.get("x").shape()).containsExactly(2, 3);
    assertThat(arrays.get("x").values()).containsExactly(1.5f, -2f, 3f, 4f, 5f, 6.25f);
    assertThat(arrays.get("x").integral()).isFalse();
    assertThat(arrays.get("y").values()).containsExactly(3f, 1f);
    assertThat(arrays.get("y").integral()).isTrue();
    assertThat(arrays.get("z").values()).containsExactly(-1f, 7f);
    assertThat(Npz.names(file)).containsExactly("x", "y", "z");
  }

  @Test
  void csvNamesTheMissingLabelColumn() throws IOException {
    Path csv = dir.resolve("d.csv");
    Files.writeString(csv, "a,b,target\n1,2,0\n3,4,1\n");
    assertThat(CsvData.read(csv(csv, "target"), DataSpec.Task.CLASSIFICATION).classes())
        .isEqualTo(2);
    assertThatThrownBy(() -> CsvData.read(csv(csv, "label"), DataSpec.Task.CLASSIFICATION))
        .isInstanceOf(InvalidJobException.class)
        .hasMessageContaining("spec.data.csv.labelColumn")
        .hasMessageContaining("a, b, target");
    assertThatThrownBy(
            () -> CsvData.read(csv(dir.resolve("nope.csv"), "label"), DataSpec.Task.REGRESSION))
        .hasMessageContaining("spec.data.csv.path");
  }

  private static DataSpec csv(Path file, String labelColumn) {
    DataSpec data = new DataSpec();
    data.source = DataSpec.Source.CSV;
    data.csv = new DataSpec.Csv();
    data.csv.path = file.toString();
    data.csv.labelColumn = labelColumn;
    return data;
  }
}
