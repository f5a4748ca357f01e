package dev.mpj.cli;

import dev.mpj.operator.planning.FleetPlanner.FleetPlan;
import dev.mpj.operator.planning.FleetPlanner.JobOnTarget;
import dev.mpj.operator.planning.FleetPlanner.JobPlan;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/** The bar chart of mpj plan -o html: GPUs per job in each precision, on one target. */
final class FleetChart {

  static final int WIDTH = 900;
  static final int HEIGHT = 420;

  private FleetChart() {}

  /** The dataset: a series per precision, a category per job; jobs that do not run count 0. */
  static DefaultCategoryDataset dataset(FleetPlan plan, int target) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (JobPlan job : plan.jobs()) {
      JobOnTarget on = job.targets().get(target);
      String name = FleetReport.name(job.document().job());
      data.addValue(on.sizing().fp32().runs() ? on.sizing().fp32().gpus() : 0, "fp32", name);
      data.addValue(
          on.sizing().fp16Mixed().runs() ? on.sizing().fp16Mixed().gpus() : 0, "fp16-mixed", name);
    }
    return data;
  }

  /** The chart as a PNG image. */
  static byte[] png(FleetPlan plan, int target) {
    System.setProperty("java.awt.headless", "true");
    JFreeChart chart =
        ChartFactory.createBarChart(
            "GPUs per job on " + plan.targets().get(target).name(),
            "job",
            "GPUs",
            dataset(plan, target),
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    chart.getCategoryPlot().getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return png.toByteArray();
  }
}
