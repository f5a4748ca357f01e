package dev.mpj.operator.queue;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.PodTemplateOverlay;
import java.util.LinkedHashMap;
import java.util.Map;

/** The job as Kueue admitted it, for sizing. A pure function. */
public final class Admissions {
  private Admissions() {}

  /**
   * A copy of the job sized as admitted: replicas fixed to the admitted count (partial admission;
   * the sizing then keeps the global batch exact at that count), and the node selector of the
   * assigned flavors, so the GPU memory of their nodes feeds the sizing. The job itself is
   * unchanged.
   */
  public static MixedPrecisionJob admitted(
      MixedPrecisionJob job, Admission admission, Workloads.Placement placement) {
    MixedPrecisionJob copy = JobFiles.yamlMapper().convertValue(job, MixedPrecisionJob.class);
    if (admission.count() != null) {
      int count = Math.max(1, admission.count());
      copy.getSpec().replicas.min = count;
      copy.getSpec().replicas.max = count;
    }
    if (!placement.nodeSelector().isEmpty()) {
      if (copy.getSpec().template == null) {
        copy.getSpec().template = new PodTemplateOverlay();
      }
      Map<String, String> selector = new LinkedHashMap<>();
      if (copy.getSpec().template.nodeSelector != null) {
        selector.putAll(copy.getSpec().template.nodeSelector);
      }
      selector.putAll(placement.nodeSelector());
      copy.getSpec().template.nodeSelector = selector;
    }
    return copy;
  }
}
