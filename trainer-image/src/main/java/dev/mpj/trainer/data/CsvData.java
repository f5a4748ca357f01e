package dev.mpj.trainer.data;

import dev.mpj.api.validation.InvalidJobException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CSV file of numeric columns with a header row. The label column is the target; every other
 * column is a feature. Labels that are all whole numbers from 0 make a classification task (classes
 * = the largest label + 1), anything else a regression task.
 */
public final class CsvData {
  private CsvData() {}

  public static Dataset read(Path file, String labelColumn) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidJobException("spec.data.csv.path", "file not found: " + file);
    }
    try (BufferedReader reader = Files.newBufferedReader(file)) {
      String header = reader.readLine();
      if (header == null || header.isBlank()) {
        throw new InvalidJobException(
            "spec.data.csv.path", file + " is empty; it needs a header row");
      }
      String[] columns = split(header);
      int label = -1;
      for (int i = 0; i < columns.length; i++) {
        if (columns[i].equals(labelColumn)) {
          label = i;
        }
      }
      if (label < 0) {
        throw new InvalidJobException(
            "spec.data.csv.labelColumn",
            "column \""
                + labelColumn
                + "\" is not in the header of "
                + file
                + " (columns: "
                + String.join(", ", columns)
                + ")");
      }
      if (columns.length < 2) {
        throw new InvalidJobException(
            "spec.data.csv.path", file + " has no feature columns besides the label");
      }
      List<float[]> rows = new ArrayList<>();
      String line;
      int lineNumber = 1;
      while ((line = reader.readLine()) != null) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        String[] cells = split(line);
        if (cells.length != columns.length) {
          throw new InvalidJobException(
              "spec.data.csv.path",
              file
                  + " line "
                  + lineNumber
                  + " has "
                  + cells.length
                  + " values, the header "
                  + columns.length);
        }
        float[] row = new float[cells.length];
        for (int i = 0; i < cells.length; i++) {
          try {
            row[i] = Float.parseFloat(cells[i]);
          } catch (NumberFormatException e) {
            throw new InvalidJobException(
                "spec.data.csv.path",
                file
                    + " line "
                    + lineNumber
                    + " column "
                    + columns[i]
                    + ": \""
                    + cells[i]
                    + "\" is not a number");
          }
        }
        rows.add(row);
      }
      if (rows.isEmpty()) {
        throw new InvalidJobException("spec.data.csv.path", file + " has a header but no rows");
      }
      return toDataset(rows, label, columns.length);
    } catch (IOException e) {
      throw new InvalidJobException(
          "spec.data.csv.path", "cannot read " + file + ": " + e.getMessage());
    }
  }

  private static Dataset toDataset(List<float[]> rows, int label, int width) {
    int features = width - 1;
    float[] x = new float[rows.size() * features];
    float[] y = new float[rows.size()];
    for (int r = 0; r < rows.size(); r++) {
      float[] row = rows.get(r);
      int f = 0;
      for (int i = 0; i < width; i++) {
        if (i == label) {
          y[r] = row[i];
        } else {
          x[r * features + f++] = row[i];
        }
      }
    }
    return Labels.dataset(new int[] {features}, x, y);
  }

  private static String[] split(String line) {
    String[] cells = line.split(",", -1);
    for (int i = 0; i < cells.length; i++) {
      cells[i] = cells[i].trim();
      if (cells[i].length() >= 2 && cells[i].startsWith("\"") && cells[i].endsWith("\"")) {
        cells[i] = cells[i].substring(1, cells[i].length() - 1);
      }
    }
    return cells;
  }
}
