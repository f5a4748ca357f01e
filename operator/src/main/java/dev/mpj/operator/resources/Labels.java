package dev.mpj.operator.resources;

import dev.mpj.api.Crd;
import dev.mpj.api.MixedPrecisionJob;
import java.util.LinkedHashMap;
import java.util.Map;

/** The labels and annotations MPJ puts on what it owns. */
public final class Labels {
  public static final String NAME = "app.kubernetes.io/name";
  public static final String INSTANCE = "app.kubernetes.io/instance";
  public static final String COMPONENT = "app.kubernetes.io/component";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String KUEUE_QUEUE_NAME = "kueue.x-k8s.io/queue-name";

  public static final String APP = "mpj-trainer";
  public static final String MANAGER = "mpj-operator";

  /** Annotation: the replicas and resources a pod was created for; a change restarts the gang. */
  public static final String SHAPE = Crd.GROUP + "/shape";

  /** Annotation: replicas of the attempt the pod belongs to. */
  public static final String WORLD_SIZE = Crd.GROUP + "/world-size";

  /**
   * Annotation on everything a job owns: the job's full name, which a label value (63 characters)
   * cannot always hold.
   */
  public static final String JOB_NAME = Crd.ANNOTATION_JOB_NAME;

  private Labels() {}

  /** Labels of every object of a job; {@code component} says which part it is. */
  public static Map<String, String> of(MixedPrecisionJob job, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(NAME, APP);
    labels.put(INSTANCE, JobNames.labelValue(job));
    labels.put(COMPONENT, component);
    labels.put(MANAGED_BY, MANAGER);
    labels.put(Crd.LABEL_JOB_NAME, JobNames.labelValue(job));
    return labels;
  }

  /** Annotations of every object of a job. */
  public static Map<String, String> annotations(MixedPrecisionJob job) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(JOB_NAME, job.getMetadata().getName());
    return annotations;
  }

  /** Selects the replica pods of a job, every attempt. */
  public static Map<String, String> podSelector(MixedPrecisionJob job) {
    return Map.of(Crd.LABEL_JOB_NAME, JobNames.labelValue(job), COMPONENT, "worker");
  }
}
