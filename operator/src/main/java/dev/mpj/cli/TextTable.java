package dev.mpj.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Rows of cells printed as aligned columns, or as a Markdown table. */
final class TextTable {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  TextTable(String... header) {
    this.header = List.of(header);
  }

  TextTable row(String... cells) {
    rows.add(List.of(cells));
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  /** Columns separated by two spaces; the first left-aligned, the others right-aligned. */
  void print(PrintWriter out) {
    int[] widths = widths();
    print(out, header, widths);
    for (List<String> row : rows) {
      print(out, row, widths);
    }
  }

  void printMarkdown(PrintWriter out) {
    out.println("| " + String.join(" | ", header) + " |");
    StringBuilder rule = new StringBuilder("|");
    for (int i = 0; i < header.size(); i++) {
      rule.append(i == 0 ? "---|" : "--:|");
    }
    out.println(rule);
    for (List<String> row : rows) {
      out.println("| " + String.join(" | ", row) + " |");
    }
  }

  void printHtml(PrintWriter out) {
    out.println("<table>");
    out.print("<tr>");
    header.forEach(h -> out.print("<th>" + Html.escape(h) + "</th>"));
    out.println("</tr>");
    for (List<String> row : rows) {
      out.print("<tr>");
      for (int i = 0; i < row.size(); i++) {
        out.print((i == 0 ? "<td>" : "<td class=\"n\">") + Html.escape(row.get(i)) + "</td>");
      }
      out.println("</tr>");
    }
    out.println("</table>");
  }

  private int[] widths() {
    int[] widths = new int[header.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = header.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    return widths;
  }

  private static void print(PrintWriter out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      if (i > 0) {
        line.append("  ").append(" ".repeat(widths[i] - cell.length())).append(cell);
      } else {
        line.append(cell).append(" ".repeat(widths[i] - cell.length()));
      }
    }
    out.println(line.toString().stripTrailing());
  }

  /** HTML escaping of text. */
  static final class Html {
    private Html() {}

    static String escape(String text) {
      return text.replace("&", "&amp;")
          .replace("<", "&lt;")
          .replace(">", "&gt;")
          .replace("\"", "&quot;");
    }
  }
}
