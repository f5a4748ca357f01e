package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** What to train, on what data, in which precision, and within which limits. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MixedPrecisionJobSpec {

  @Required
  @ValidationRule(value = "self == oldSelf", message = "precision is immutable")
  @ValidationRule(
      value = "self != 'bf16-mixed'",
      message =
          "bf16-mixed is not supported: the DJL PyTorch engine has no BF16 arrays; use fp16-mixed")
  @JsonPropertyDescription(
      "Numeric precision: fp32, or fp16-mixed (FP16 compute, FP32 master weights, loss scaling). "
          + "bf16-mixed is refused at admission: the DJL PyTorch engine has no BF16. Immutable.")
  public Precision precision;

  @JsonPropertyDescription(
      "Loss scaling for fp16-mixed; defaults as PyTorch's GradScaler. Ignored for fp32.")
  public LossScalingSpec lossScaling = new LossScalingSpec();

  @Required
  @ValidationRule(value = "self == oldSelf", message = "model is immutable")
  @JsonPropertyDescription(
      "The model to train: a built-in architecture and its hyper-parameters. Immutable.")
  public ModelSpec model;

  @Required
  @JsonPropertyDescription(
      "Where the training data comes from, and how much of it is held out for validation.")
  public DataSpec data;

  @Required
  @JsonPropertyDescription("Batch size, length of training, optimizer and seed.")
  public TrainingSpec training;

  @JsonPropertyDescription(
      "Bounds on the number of data-parallel replicas; the operator chooses within them.")
  public ReplicasSpec replicas = new ReplicasSpec();

  @JsonPropertyDescription("What each replica's pod asks for: GPUs, GPU memory, CPU and memory.")
  public ResourcesSpec resources = new ResourcesSpec();

  @JsonPropertyDescription(
      "How often FP32 master-weight checkpoints are written, how many are kept, and where.")
  public CheckpointSpec checkpoint = new CheckpointSpec();

  @JsonPropertyDescription(
      "Restart, deadline, clean-up and suspension policy, as for a Kubernetes Job.")
  public RunPolicySpec runPolicy = new RunPolicySpec();

  @JsonPropertyDescription(
      "Governance: the largest relative gap allowed between the validation loss of the FP16 working weights "
          + "and of the FP32 master weights. Unset: no parity check.")
  public ParitySpec parity;

  @JsonPropertyDescription(
      "When the trainer reports the run unhealthy (the TrainingHealthy condition): skipped-step"
          + " ratio over a window; PyTorch-like defaults.")
  public TrainingHealthSpec health = new TrainingHealthSpec();

  @JsonPropertyDescription("Trainer container image. Unset: the operator's default trainer image.")
  public String image;

  @JsonPropertyDescription(
      "Overlay for every replica's pod: labels, annotations, scheduling, volumes, environment,"
          + " pull secrets, runtime class and extended resources.")
  public PodTemplateOverlay template = new PodTemplateOverlay();
}
