package dev.mpj.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A checkpoint's content copied into host memory at a step boundary: the loop may go on changing
 * the native arrays while a background thread writes this.
 *
 * @param model FP32 master weights (DJL's parameter names), then the BatchNorm running statistics
 * @param optimizer FP32 optimizer state ({@code m/<parameter>}, {@code v/<parameter>}, {@code
 *     momentum/<parameter>})
 * @param state state.json without the file checksums (the writer adds them)
 */
public record Snapshot(
    List<SafetensorsFile.Tensor> model,
    List<SafetensorsFile.Tensor> optimizer,
    CheckpointState state) {

  public long step() {
    return state.step();
  }

  public long bytes() {
    long total = 0;
    for (SafetensorsFile.Tensor t : model) {
      total += t.data().length;
    }
    for (SafetensorsFile.Tensor t : optimizer) {
      total += t.data().length;
    }
    return total;
  }

  /** Copies the session's state now; call between steps, on the loop's thread. */
  public static Snapshot of(TrainingSession session, String modelConfigSha256) {
    List<SafetensorsFile.Tensor> model = new ArrayList<>();
    List<String> names = session.weights().names();
    List<NDArray> master = session.weights().masterArrays();
    for (int i = 0; i < names.size(); i++) {
      model.add(tensor(names.get(i), master.get(i)));
    }
    List<String> bufferNames = session.weights().bufferNames();
    List<NDArray> buffers = session.weights().buffers();
    for (int i = 0; i < bufferNames.size(); i++) {
      model.add(tensor(bufferNames.get(i), buffers.get(i)));
    }
    List<SafetensorsFile.Tensor> optimizer = new ArrayList<>();
    for (Optimizer.NamedArray a : session.optimizer().state()) {
      optimizer.add(tensor(a.name(), a.array()));
    }
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

  private static SafetensorsFile.Tensor tensor(String name, NDArray array) {
    if (array.getDataType() != DataType.FLOAT32) {
      throw new IllegalStateException(
          name + " is " + array.getDataType() + ", a checkpoint holds FP32 only");
    }
    return new SafetensorsFile.Tensor(name, array.getShape().getShape(), array.toByteArray());
  }
}
