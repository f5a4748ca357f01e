package dev.mpj.cli.report;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.SizingStatus;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's charts, drawn by JFreeChart as PNG images. */
public final class ReportCharts {
  public static final int WIDTH = 900;
  public static final int HEIGHT = 380;

  /** The FP32 reference's colour and the mixed run's, the same in every chart. */
  static final Color FP32 = new Color(0x1f, 0x77, 0xb4);

  static final Color MIXED = new Color(0xd6, 0x27, 0x28);

  private ReportCharts() {}

  /** A line per run: its training loss per step; validation points as markers. */
  public static byte[] trainingLoss(ReportModel m) {
    XYSeriesCollection data = new XYSeriesCollection();
    List<Color> colours = new ArrayList<>();
    List<Boolean> lines = new ArrayList<>();
    for (RunData run : m.runs()) {
      XYSeries s = new XYSeries(run.label() + " training loss");
      run.loss().forEach((step, loss) -> addFinite(s, step, loss));
      data.addSeries(s);
      colours.add(colour(run));
      lines.add(true);
    }
    for (RunData run : m.runs()) {
      XYSeries v = new XYSeries(run.label() + " validation loss");
      double[] last = run.finalValidation();
      if (last != null) {
        addFinite(v, (long) last[0], last[1]);
      }
      ParityPoint p = m.parityPoint(run);
      if (p != null && p.validationLoss != null) {
        addFinite(v, p.step, p.validationLoss);
      }
      if (v.getItemCount() > 0) {
        data.addSeries(v);
        colours.add(colour(run).darker());
        lines.add(false);
      }
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Training loss: FP32 reference vs mixed precision",
            "step",
            "loss",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
    for (int i = 0; i < colours.size(); i++) {
      r.setSeriesPaint(i, colours.get(i));
      r.setSeriesLinesVisible(i, lines.get(i));
      r.setSeriesShapesVisible(i, !lines.get(i));
      r.setSeriesShape(i, new Ellipse2D.Double(-6, -6, 12, 12));
      r.setSeriesStroke(i, stroke(i < m.runs().size() ? m.runs().get(i) : null));
    }
    chart.getXYPlot().setRenderer(r);
    return png(chart);
  }

  /** The loss scale per step of each run, on a log axis. */
  public static byte[] lossScale(ReportModel m) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (RunData run : m.runs()) {
      XYSeries s = new XYSeries(run.label() + " loss scale");
      run.lossScale().forEach((step, scale) -> addFinite(s, step, scale));
      data.addSeries(s);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Loss scale", "step", "loss scale", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    LogAxis log = new LogAxis("loss scale (log 2)");
    log.setBase(2);
    log.setSmallestValue(0.5);
    plot.setRangeAxis(log);
    style(plot, m);
    return png(chart);
  }

  /** Skipped steps so far, per step, of each run. */
  public static byte[] skippedSteps(ReportModel m) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (RunData run : m.runs()) {
      XYSeries s = new XYSeries(run.label() + " skipped steps (cumulative)");
      run.cumulativeSkipped().forEach((step, n) -> s.add((double) step, (double) n));
      data.addSeries(s);
    }
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Skipped steps (inf/NaN gradients)",
            "step",
            "steps skipped so far",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    style(chart.getXYPlot(), m);
    NumberAxis count = (NumberAxis) chart.getXYPlot().getRangeAxis();
    count.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    count.setAutoRangeMinimumSize(1);
    count.setLowerBound(0);
    return png(chart);
  }

  /** Planned GPU memory per replica and GPUs, FP32 against fp16-mixed (status.sizing). */
  public static byte[] memory(SizingStatus sizing) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (SizingStatus.PrecisionPlan p : plans(sizing)) {
      if (p.bytesPerReplica != null) {
        data.addValue(p.bytesPerReplica / (double) (1L << 30), p.precision, "GiB per replica");
      }
    }
    JFreeChart chart =
        ChartFactory.createBarChart(
            "Planned GPU memory per replica: FP32 vs fp16-mixed",
            "",
            "GiB",
            data,
            PlotOrientation.HORIZONTAL,
            true,
            false,
            false);
    var renderer = chart.getCategoryPlot().getRenderer();
    List<SizingStatus.PrecisionPlan> plans = plans(sizing);
    for (int i = 0; i < plans.size(); i++) {
      renderer.setSeriesPaint(i, "fp32".equals(plans.get(i).precision) ? FP32 : MIXED);
    }
    return png(chart, WIDTH, 220);
  }

  static List<SizingStatus.PrecisionPlan> plans(SizingStatus sizing) {
    List<SizingStatus.PrecisionPlan> plans = new ArrayList<>();
    if (sizing != null && sizing.fp32 != null) {
      plans.add(sizing.fp32);
    }
    if (sizing != null && sizing.plan != null && !"fp32".equals(sizing.plan.precision)) {
      plans.add(sizing.plan);
    }
    return plans;
  }

  private static void style(XYPlot plot, ReportModel m) {
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    List<RunData> runs = m.runs();
    for (int i = 0; i < runs.size(); i++) {
      r.setSeriesPaint(i, colour(runs.get(i)));
      r.setSeriesStroke(i, stroke(runs.get(i)));
    }
    plot.setRenderer(r);
  }

  /** The FP32 reference dashed, so that both show where the runs coincide. */
  private static BasicStroke stroke(RunData run) {
    if (run != null && "fp32".equals(run.precision())) {
      return new BasicStroke(
          2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 5f}, 0f);
    }
    return new BasicStroke(2f);
  }

  static Color colour(RunData run) {
    return "fp32".equals(run.precision()) ? FP32 : MIXED;
  }

  private static void addFinite(XYSeries s, long step, double value) {
    if (Double.isFinite(value)) {
      s.add((double) step, value);
    }
  }

  private static byte[] png(JFreeChart chart) {
    return png(chart, WIDTH, HEIGHT);
  }

  private static byte[] png(JFreeChart chart, int width, int height) {
    System.setProperty("java.awt.headless", "true");
    chart.setBackgroundPaint(Color.WHITE);
    Plot plot = chart.getPlot();
    plot.setBackgroundPaint(Color.WHITE);
    if (plot instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
      xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
    } else if (plot instanceof CategoryPlot c) {
      c.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(out, chart, width, height);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
