package dev.mpj.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.optim.Optimizer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A checkpoint's content copied at a step boundary into memory of its own, laid out as the two
 * files will lie on the disk: the loop may go on changing the native arrays while a background
 * thread writes this. The copy out of the arrays' memory is the only one: the writer hands the
 * images to the disk as they are ({@link FileImage#writeNew}).
 *
 * @param model FP32 master weights (DJL's parameter names), then the BatchNorm running statistics
 * @param optimizer FP32 optimizer state ({@code m/<parameter>}, {@code v/<parameter>}, {@code
 *     momentum/<parameter>})
 * @param state state.json without the file checksums (the writer adds them)
 */
public record Snapshot(
    SafetensorsFile.Image model, SafetensorsFile.Image optimizer, CheckpointState state) {

  public long step() {
    return state.step();
  }

  /** The values' bytes (both files, without headers). */
  public long bytes() {
    return model.dataBytes() + optimizer.dataBytes();
  }

  /** A snapshot of tensors held in Java arrays (tests, tools). */
  public static Snapshot ofTensors(
      List<SafetensorsFile.Tensor> model,
      List<SafetensorsFile.Tensor> optimizer,
      CheckpointState state) {
    return new Snapshot(image(model), image(optimizer), state);
  }

  private static SafetensorsFile.Image image(List<SafetensorsFile.Tensor> tensors) {
    List<SafetensorsFile.Entry> entries = new ArrayList<>();
    for (SafetensorsFile.Tensor t : tensors) {
      entries.add(new SafetensorsFile.Entry(t.name(), t.shape()));
    }
    SafetensorsFile.Image image = SafetensorsFile.layout(entries, null);
    for (int i = 0; i < tensors.size(); i++) {
      image.put(i, ByteBuffer.wrap(tensors.get(i).data()));
    }
    return image;
  }

  /** Copies the session's state now into new memory; call between steps, on the loop's thread. */
  public static Snapshot of(TrainingSession session, String modelConfigSha256) {
    return of(session, modelConfigSha256, null);
  }

  /**
   * Copies the session's state now; call between steps, on the loop's thread. {@code reuse}'s
   * memory is used again when the layout is the same (it always is within a run): pass a snapshot
   * only once its write has finished, or null.
   */
  public static Snapshot of(TrainingSession session, String modelConfigSha256, Snapshot reuse) {
    List<String> modelNames = new ArrayList<>(session.weights().names());
    List<NDArray> modelArrays = new ArrayList<>(session.weights().masterArrays());
    modelNames.addAll(session.weights().bufferNames());
    modelArrays.addAll(session.weights().buffers());
    List<String> optimizerNames = new ArrayList<>();
    List<NDArray> optimizerArrays = new ArrayList<>();
    for (Optimizer.NamedArray a : session.optimizer().state()) {
      optimizerNames.add(a.name());
      optimizerArrays.add(a.array());
    }
    SafetensorsFile.Image model =
        copy(modelNames, modelArrays, reuse == null ? null : reuse.model().image());
    SafetensorsFile.Image optimizer =
        copy(optimizerNames, optimizerArrays, reuse == null ? null : reuse.optimizer().image());
    long step = session.step();
    long seed = session.config().seed();
    CheckpointState state =
        new CheckpointState(
            CheckpointState.FORMAT,
            step,
            session.skippedSteps(),
            session.optimizer().updates(),
            session.dataOrder().epoch(),
            session.dataOrder().index(),
            new CheckpointState.Rng(
                seed,
                "engine reseeded before step s with stepSeed(seed, s)",
                TrainingSession.stepSeed(seed, step + 1)),
            new CheckpointState.LossScalerState(
                session.scaler().scale(), session.scaler().growthTracker()),
            session.config().precision().value(),
            modelConfigSha256,
            null);
    return new Snapshot(model, optimizer, state);
  }

  /**
   * Lays out a file of the arrays and copies their values in: on the CPU {@code toByteBuffer(true)}
   * is the array's own memory, so this is one copy, native memory to the image.
   */
  private static SafetensorsFile.Image copy(
      List<String> names, List<NDArray> arrays, FileImage reuse) {
    List<SafetensorsFile.Entry> entries = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      NDArray array = arrays.get(i);
      if (array.getDataType() != DataType.FLOAT32) {
        throw new IllegalStateException(
            names.get(i) + " is " + array.getDataType() + ", a checkpoint holds FP32 only");
      }
      entries.add(new SafetensorsFile.Entry(names.get(i), array.getShape().getShape()));
    }
    SafetensorsFile.Image image = SafetensorsFile.layout(entries, reuse);
    for (int i = 0; i < arrays.size(); i++) {
      image.put(i, arrays.get(i).toByteBuffer(true));
    }
    return image;
  }
}
