package dev.mpj.api;

import java.util.Locale;

/**
 * The task of a job's data as its spec states it, or the documented default where it does not:
 * synthetic data defaults to classification; a csv or npz file to sequence for the transformer and
 * classification otherwise. The trainer, {@code mpj plan} and the operator all read it from here.
 */
public final class DataTask {
  private DataTask() {}

  /**
   * The task; {@code architecture} may be null when unknown (the default is then classification).
   */
  public static DataSpec.Task of(DataSpec data, ModelSpec.Architecture architecture) {
    DataSpec.Task stated = stated(data);
    if (stated != null) {
      return stated;
    }
    if (data.source != DataSpec.Source.SYNTHETIC
        && architecture == ModelSpec.Architecture.TRANSFORMER) {
      return DataSpec.Task.SEQUENCE;
    }
    return DataSpec.Task.CLASSIFICATION;
  }

  /** The task the spec writes, or null where it leaves the default. */
  public static DataSpec.Task stated(DataSpec data) {
    return switch (data.source) {
      case SYNTHETIC -> (data.synthetic != null ? data.synthetic : new DataSpec.Synthetic()).task;
      case CSV -> data.csv != null ? data.csv.task : null;
      case NPZ -> data.npz != null ? data.npz.task : null;
    };
  }

  /** The classes the spec states for classification; null when a file's largest label decides. */
  public static Integer statedClasses(DataSpec data) {
    return switch (data.source) {
      case SYNTHETIC ->
          (data.synthetic != null ? data.synthetic : new DataSpec.Synthetic()).classes;
      case CSV -> data.csv != null ? data.csv.classes : null;
      case NPZ -> data.npz != null ? data.npz.classes : null;
    };
  }

  /** The path of one of the data source's own fields, e.g. {@code spec.data.csv.classes}. */
  public static String field(DataSpec data, String name) {
    return "spec.data." + data.source.name().toLowerCase(Locale.ROOT) + "." + name;
  }
}
