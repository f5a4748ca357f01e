package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where rank 0 leaves the data of {@code mpj report}: beside the checkpoints, on their volume. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReportDataStatus {
  /** The job's run's folder on the checkpoint volume. */
  public static final String JOB_PATH = "report";

  /** The FP32 reference run's folder on the checkpoint volume. */
  public static final String REFERENCE_PATH = TrainerContract.REFERENCE_CHECKPOINTS + "/report";

  @JsonPropertyDescription("The PersistentVolumeClaim of the checkpoint volume.")
  public String claimName;

  @JsonPropertyDescription(
      "The job's run's report data on that volume (metrics.jsonl, summary.json,"
          + " reference-parity.json).")
  public String path;

  @JsonPropertyDescription("The FP32 reference run's, with spec.parity.reference.")
  public String referencePath;

  @JsonPropertyDescription("How to turn it into the HTML report.")
  public String command;
}
