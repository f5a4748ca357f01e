package dev.mpj.trainer.data;

import dev.mpj.api.DataSpec;
import dev.mpj.api.validation.InvalidJobException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CSV file of numeric columns with a header row (docs/concepts/data.md). The label column is the
 * target; every other column is a feature. Every cell must be a finite number; the labels must fit
 * the task the spec states (classification or regression).
 */
public final class CsvData {
  private static final String FIELD = "spec.data.csv.path";

  private CsvData() {}

  /** Reads {@code data.csv} for {@code task}; refuses the first bad cell by its line and column. */
  public static Dataset read(DataSpec data, DataSpec.Task task) {
    Path file = Path.of(data.csv.path);
    if (!Files.isRegularFile(file)) {
      throw new InvalidJobException(FIELD, "file not found: " + file);
    }
    try (BufferedReader reader = Files.newBufferedReader(file)) {
      String header = reader.readLine();
      if (header == null || header.isBlank()) {
        throw new InvalidJobException(FIELD, file + " is empty; it needs a header row");
      }
      String[] columns = split(header);
      int label = -1;
      for (int i = 0; i < columns.length; i++) {
        if (columns[i].equals(data.csv.labelColumn)) {
          label = i;
        }
      }
      if (label < 0) {
        throw new InvalidJobException(
            "spec.data.csv.labelColumn",
            "column \""
                + data.csv.labelColumn
                + "\" is not in the header of "
                + file
                + " (columns: "
                + String.join(", ", columns)
                + ")");
      }
      if (columns.length < 2) {
        throw new InvalidJobException(FIELD, file + " has no feature columns besides the label");
      }
      List<float[]> rows = new ArrayList<>();
      List<Integer> lines = new ArrayList<>();
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
              FIELD,
              file
                  + " line "
                  + lineNumber
                  + ": "
                  + cells.length
                  + " values, but the header has "
                  + columns.length
                  + " columns");
        }
        float[] row = new float[cells.length];
        for (int i = 0; i < cells.length; i++) {
          row[i] = number(cells[i], data, place(file, lineNumber, columns[i]));
        }
        rows.add(row);
        lines.add(lineNumber);
      }
      if (rows.isEmpty()) {
        throw new InvalidJobException(FIELD, file + " has a header but no rows");
      }
      return toDataset(data, task, file, rows, lines, columns, label);
    } catch (IOException e) {
      throw new InvalidJobException(FIELD, "cannot read " + file + ": " + e.getMessage());
    }
  }

  /** A cell's value; empty, non-numeric and non-finite cells are refused. */
  private static float number(String cell, DataSpec data, String place) {
    if (cell.isEmpty()) {
      throw FileValues.refused(data, place, "the value is empty");
    }
    float value;
    try {
      value = Float.parseFloat(cell);
    } catch (NumberFormatException e) {
      throw FileValues.refused(data, place, "\"" + cell + "\" is not a number");
    }
    if (!Float.isFinite(value)) {
      throw FileValues.refused(
          data,
          place,
          "\"" + cell + "\" is not a finite number" + (Float.isNaN(value) ? "" : " in float32"));
    }
    return value;
  }

  private static Dataset toDataset(
      DataSpec data,
      DataSpec.Task task,
      Path file,
      List<float[]> rows,
      List<Integer> lines,
      String[] columns,
      int label) {
    int width = columns.length;
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
    return FileValues.labelled(
        data, task, new int[] {features}, x, y, r -> place(file, lines.get(r), columns[label]));
  }

  private static String place(Path file, int line, String column) {
    return file + " line " + line + ", column \"" + column + "\"";
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
