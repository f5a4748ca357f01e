package dev.mpj.operator.sizing;

import java.util.Locale;

/** Byte counts as people read them: binary units, one decimal. */
public final class Bytes {
  private Bytes() {}

  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = Math.abs(bytes);
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    String sign = bytes < 0 ? "-" : "";
    return unit == 0
        ? sign + (long) value + " B"
        : String.format(Locale.ROOT, "%s%.1f %s", sign, value, units[unit]);
  }
}
