package dev.mpj.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.mpj.api.Precision;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.optim.Optimizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Start-up step (2) of rank 0: put the newest whole checkpoint into a freshly built session. Every
 * check (model config hash, precision, tensor names and shapes) passes before the first array is
 * touched, so a refused checkpoint leaves the session as built and the disk as it was.
 *
 * @param checkpoint the folder resumed from, null when the run starts fresh
 * @param damaged the reports of damaged checkpoints passed over
 */
public record Resume(Path checkpoint, Long step, List<String> damaged) {

  public static Resume fresh() {
    return new Resume(null, null, List.of());
  }

  /**
   * Finds and restores the newest whole checkpoint under {@code folder}; reports go to {@code log}
   * as they happen.
   */
  public static Resume newest(
      Path folder, TrainingSession session, String modelConfigSha256, Consumer<String> log)
      throws IOException {
    return newest(folder, session, modelConfigSha256, null, log);
  }

  /**
   * As {@link #newest(Path, TrainingSession, String, Consumer)}, for the FP32 fallback of an
   * fp16-mixed run too: with {@code mixedModelConfigSha256} (the same model's hash in fp16-mixed),
   * an fp32 session also accepts that model's fp16-mixed checkpoints ({@link #restoreMixedAsFp32}).
   */
  public static Resume newest(
      Path folder,
      TrainingSession session,
      String modelConfigSha256,
      String mixedModelConfigSha256,
      Consumer<String> log)
      throws IOException {
    List<String> damaged = new ArrayList<>();
    CheckpointReader.Loaded loaded =
        CheckpointReader.newestWhole(
            folder,
            message -> {
              damaged.add(message);
              log.accept(message);
            });
    if (loaded == null) {
      if (!damaged.isEmpty()) {
        log.accept("no whole checkpoint left in " + folder + ": starting from step 0");
      }
      return new Resume(null, null, damaged);
    }
    boolean fallback =
        mixedModelConfigSha256 != null
            && Precision.FP16_MIXED.value().equals(loaded.state().precision());
    if (fallback) {
      restoreMixedAsFp32(session, loaded, mixedModelConfigSha256);
    } else {
      restore(session, loaded, modelConfigSha256);
    }
    log.accept(
        "resuming from "
            + (fallback ? "fp16-mixed checkpoint " : "checkpoint ")
            + loaded.folder().getFileName()
            + " (step "
            + loaded.state().step()
            + ")");
    return new Resume(loaded.folder(), loaded.state().step(), damaged);
  }

  /** Checks {@code loaded} against the session's model, then copies it in. */
  public static void restore(
      TrainingSession session, CheckpointReader.Loaded loaded, String modelConfigSha256) {
    CheckpointState state = loaded.state();
    String name = loaded.folder().getFileName().toString();
    requireSameModel(loaded, modelConfigSha256);
    String precision = session.config().precision().value();
    if (!precision.equals(state.precision())) {
      throw new InvalidJobException(
          "spec.precision",
          "the checkpoint " + name + " is " + state.precision() + ", this job is " + precision);
    }
    copyIn(session, loaded, true);
  }

  /**
   * The FP32 fallback: an fp16-mixed checkpoint into an fp32 session of the same model. Its FP32
   * master weights, buffers and optimizer state are exactly the FP32 model's state, so they are
   * copied as they are, with the step, skipped steps and data position; the loss scale is not (FP32
   * trains at scale 1). {@code mixedModelConfigSha256} is this model's hash in fp16-mixed: the
   * checkpoint must carry it.
   */
  public static void restoreMixedAsFp32(
      TrainingSession session, CheckpointReader.Loaded loaded, String mixedModelConfigSha256) {
    String name = loaded.folder().getFileName().toString();
    if (session.config().precision() != Precision.FP32
        || !Precision.FP16_MIXED.value().equals(loaded.state().precision())) {
      throw new InvalidJobException(
          "spec.precision",
          "the FP32 fallback resumes an fp32 job from an fp16-mixed checkpoint; the checkpoint "
              + name
              + " is "
              + loaded.state().precision()
              + ", this job is "
              + session.config().precision().value());
    }
    requireSameModel(loaded, mixedModelConfigSha256);
    copyIn(session, loaded, false);
  }

  private static void requireSameModel(CheckpointReader.Loaded loaded, String modelConfigSha256) {
    CheckpointState state = loaded.state();
    String name = loaded.folder().getFileName().toString();
    if (!modelConfigSha256.equals(state.modelConfigSha256())) {
      throw new InvalidJobException(
          "spec.model",
          "the checkpoint "
              + name
              + " in "
              + loaded.folder().getParent()
              + " was written for a different model (model, data shape or precision changed: model config SHA-256 "
              + state.modelConfigSha256()
              + ", this job's "
              + modelConfigSha256
              + "); refusing to resume from it."
              + " Restore the job's model section, or train into a new output folder or checkpoint volume");
    }
  }

  /** Every check passes before the first array is touched. */
  private static void copyIn(
      TrainingSession session, CheckpointReader.Loaded loaded, boolean withLossScale) {
    CheckpointState state = loaded.state();
    String name = loaded.folder().getFileName().toString();
    List<String> modelNames = new ArrayList<>(session.weights().names());
    modelNames.addAll(session.weights().bufferNames());
    List<NDArray> modelArrays = new ArrayList<>(session.weights().masterArrays());
    modelArrays.addAll(session.weights().buffers());
    List<Optimizer.NamedArray> optimizerState = session.optimizer().state();
    List<String> optimizerNames = optimizerState.stream().map(Optimizer.NamedArray::name).toList();
    List<NDArray> optimizerArrays =
        optimizerState.stream().map(Optimizer.NamedArray::array).toList();
    check(name, "model", modelNames, modelArrays, loaded.model());
    check(name, "optimizer", optimizerNames, optimizerArrays, loaded.optimizer());

    copy(loaded.model(), modelArrays);
    copy(loaded.optimizer(), optimizerArrays);
    session.weights().syncBuffersToMaster();
    session.optimizer().restoreUpdates(state.optimizerUpdates());
    if (withLossScale) {
      session.scaler().restore(state.lossScaler().scale(), state.lossScaler().growthTracker());
    }
    session.restorePosition(state.step(), state.skippedSteps(), state.epoch(), state.dataIndex());
    session.weights().copyToWorking();
  }

  private static void check(
      String checkpoint,
      String file,
      List<String> names,
      List<NDArray> arrays,
      List<SafetensorsFile.Tensor> tensors) {
    if (tensors.size() != names.size()) {
      throw new InvalidJobException(
          "spec.model",
          "the checkpoint "
              + checkpoint
              + " holds "
              + tensors.size()
              + " "
              + file
              + " tensors, this job's model has "
              + names.size());
    }
    for (int i = 0; i < names.size(); i++) {
      SafetensorsFile.Tensor t = tensors.get(i);
      Shape expected = arrays.get(i).getShape();
      if (!t.name().equals(names.get(i)) || !Arrays.equals(t.shape(), expected.getShape())) {
        throw new InvalidJobException(
            "spec.model",
            "the checkpoint "
                + checkpoint
                + " has "
                + file
                + " tensor "
                + t.name()
                + Arrays.toString(t.shape())
                + " where this job's model has "
                + names.get(i)
                + expected);
      }
    }
  }

  private static void copy(List<SafetensorsFile.Tensor> tensors, List<NDArray> arrays) {
    for (int i = 0; i < arrays.size(); i++) {
      NDArray target = arrays.get(i);
      try (NDManager scratch = target.getManager().newSubManager()) {
        ByteBuffer values = ByteBuffer.wrap(tensors.get(i).data()).order(ByteOrder.LITTLE_ENDIAN);
        scratch.create(values.asFloatBuffer(), target.getShape()).copyTo(target);
      }
    }
  }
}
