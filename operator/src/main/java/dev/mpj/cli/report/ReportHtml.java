package dev.mpj.cli.report;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.SizingStatus;
import java.util.Base64;
import java.util.Locale;

/**
 * The report as one self-contained HTML file: the charts as PNG images inside it (data: URIs), the
 * parity verdict and the sizing as tables. Nothing is loaded from elsewhere.
 */
public final class ReportHtml {
  private ReportHtml() {}

  public static String render(ReportModel m) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
        .append(escape(m.title()))
        .append("</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:16px;color:#222;max-width:940px}\n")
        .append("h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:20px 0 6px}\n")
        .append("table{border-collapse:collapse;font-size:14px}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
        .append("th:first-child,td:first-child{text-align:left}\n")
        .append(".pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}\n")
        .append("img.chart{display:block;margin:6px 0;border:1px solid #ddd}\n")
        .append("</style></head><body>\n");
    b.append("<h1>").append(escape(m.title())).append("</h1>\n");
    if (m.job() != null && m.job().getStatus() != null) {
      var s = m.job().getStatus();
      b.append("<p>Phase <b>")
          .append(escape(String.valueOf(s.phase)))
          .append("</b>: ")
          .append(escape(s.message == null ? "" : s.message))
          .append("</p>\n");
    }
    verdict(b, m);
    if (!m.runs().isEmpty()) {
      chart(b, "chart-loss", "Training loss and validation points", ReportCharts.trainingLoss(m));
      chart(b, "chart-scale", "Loss scale", ReportCharts.lossScale(m));
      chart(b, "chart-skipped", "Skipped steps", ReportCharts.skippedSteps(m));
    }
    sizing(b, m.sizing());
    b.append("<p style=\"font-size:12px;color:#666\">Made by mpj report. Charts drawn with")
        .append(" JFreeChart. Memory and GPU figures are the operator's sizing plan, not")
        .append(" measurements.</p>\n</body></html>\n");
    return b.toString();
  }

  private static void verdict(StringBuilder b, ReportModel m) {
    ReferenceParityStatus p = m.parity();
    b.append("<h2>Reference parity</h2>\n");
    if (p == null || !ReferenceParityStatus.COMPARED.equals(p.phase)) {
      b.append("<p id=\"verdict\">No comparison")
          .append(p == null ? " (no spec.parity.reference, or no figures yet)" : ": " + p.phase)
          .append(".</p>\n");
      return;
    }
    boolean ok = Boolean.TRUE.equals(p.withinBounds);
    b.append("<p id=\"verdict\" class=\"")
        .append(ok ? "pass\">PASSED" : "fail\">EXCEEDED")
        .append("</p>\n<p>")
        .append(escape(p.message == null ? "" : p.message))
        .append("</p>\n<table><tr><th>at step ")
        .append(p.step)
        .append("</th><th>FP32 reference</th><th>")
        .append(escape(p.candidate == null ? "job" : String.valueOf(p.candidate.precision)))
        .append("</th><th>gap</th></tr>\n");
    row(
        b,
        "validation accuracy",
        percent(p.reference == null ? null : p.reference.validationAccuracy),
        percent(p.candidate == null ? null : p.candidate.validationAccuracy),
        p.accuracyDropPoints == null
            ? ""
            : String.format(Locale.ROOT, "%.2f points", p.accuracyDropPoints));
    row(
        b,
        "validation loss",
        number(p.reference, true),
        number(p.candidate, true),
        gap(p.validationLossGap));
    row(
        b,
        "mean training loss over the window",
        number(p.reference, false),
        number(p.candidate, false),
        gap(p.trainingLossGap));
    b.append("</table>\n");
  }

  private static void sizing(StringBuilder b, SizingStatus s) {
    if (s == null || ReportCharts.plans(s).isEmpty()) {
      return;
    }
    b.append("<h2>Memory per replica and GPUs</h2>\n");
    chart(b, "chart-memory", "Planned GPU memory per replica", ReportCharts.memory(s));
    b.append("<table><tr><th>precision</th><th>replicas</th><th>micro-batch</th>")
        .append("<th>accumulation</th><th>GiB per replica</th><th>GPUs</th></tr>\n");
    for (SizingStatus.PrecisionPlan p : ReportCharts.plans(s)) {
      b.append("<tr><td>")
          .append(escape(String.valueOf(p.precision)))
          .append("</td><td>")
          .append(p.replicas)
          .append("</td><td>")
          .append(p.microBatch)
          .append("</td><td>")
          .append(p.gradientAccumulation)
          .append("</td><td>")
          .append(
              p.bytesPerReplica == null
                  ? ""
                  : String.format(Locale.ROOT, "%.2f", p.bytesPerReplica / (double) (1L << 30)))
          .append("</td><td>")
          .append(p.gpus)
          .append("</td></tr>\n");
    }
    b.append("</table>\n<p id=\"gpus-saved\">GPUs saved by mixed precision: <b>")
        .append(s.gpusSaved == null ? "unknown" : s.gpusSaved)
        .append("</b></p>\n");
  }

  private static void chart(StringBuilder b, String id, String alt, byte[] png) {
    b.append("<img class=\"chart\" id=\"")
        .append(id)
        .append("\" alt=\"")
        .append(escape(alt))
        .append("\" src=\"data:image/png;base64,")
        .append(Base64.getEncoder().encodeToString(png))
        .append("\">\n");
  }

  private static void row(StringBuilder b, String name, String ref, String cand, String gap) {
    b.append("<tr><td>")
        .append(escape(name))
        .append("</td><td>")
        .append(ref)
        .append("</td><td>")
        .append(cand)
        .append("</td><td>")
        .append(gap)
        .append("</td></tr>\n");
  }

  private static String percent(Double d) {
    return d == null ? "" : String.format(Locale.ROOT, "%.2f%%", 100 * d);
  }

  private static String number(ParityPoint p, boolean validation) {
    Double d = p == null ? null : validation ? p.validationLoss : p.trainingLoss;
    return d == null ? "not finite" : String.format(Locale.ROOT, "%.4f", d);
  }

  private static String gap(Double d) {
    return d == null ? "" : String.format(Locale.ROOT, "%.4f", d);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
