package dev.mpj.api;

/**
 * Names of the MixedPrecisionJob custom resource definition, and the labels MPJ puts on what it
 * owns.
 */
public final class Crd {
  public static final String GROUP = "mpj.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "MixedPrecisionJob";
  public static final String PLURAL = "mixedprecisionjobs";
  public static final String SINGULAR = "mixedprecisionjob";
  public static final String SHORT_NAME = "mpj";
  public static final String NAME = PLURAL + "." + GROUP;

  /** The file name the CRD generator writes, and the one committed under crds/. */
  public static final String FILE_NAME = NAME + "-v1.yml";

  public static final String LABEL_JOB_NAME = GROUP + "/job-name";
  public static final String LABEL_REPLICA_INDEX = GROUP + "/replica-index";
  public static final String LABEL_ATTEMPT = GROUP + "/attempt";

  /**
   * The job's full name, on everything it owns; the label of the same key holds it when it fits a
   * label value (63 characters), else a shortened form with a hash.
   */
  public static final String ANNOTATION_JOB_NAME = GROUP + "/job-name";

  private Crd() {}
}
