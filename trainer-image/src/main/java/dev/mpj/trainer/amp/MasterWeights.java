package dev.mpj.trainer.amp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's weights in two precisions. The working block (FP16 for fp16-mixed) runs forward and
 * backward; the master block holds the FP32 weights the optimizer updates, and after each update
 * they are copied back, rounded, into the working parameters. For fp32 both are the same block and
 * the copy-back is nothing. Parameters are matched by position: both blocks are built from one
 * spec.
 *
 * <p>Buffers that take no gradient (BatchNorm running statistics) are FP32 in both blocks; the
 * working block updates them and {@link #syncBuffersToMaster} copies them across before the master
 * is used.
 */
public final class MasterWeights {
  private static final NDIndex ALL = new NDIndex("...");
  private final Block working;
  private final Block master;
  private final List<String> names = new ArrayList<>();
  private final List<Parameter> workingTrainable = new ArrayList<>();
  private final List<NDArray> masterTrainable = new ArrayList<>();
  private final List<String> bufferNames = new ArrayList<>();
  private final List<Parameter> workingBuffers = new ArrayList<>();
  private final List<Parameter> masterBuffers = new ArrayList<>();

  public MasterWeights(Block working, Block master) {
    this.working = working;
    this.master = master;
    List<Pair<String, Parameter>> w = working.getParameters().stream().toList();
    List<Pair<String, Parameter>> m = master.getParameters().stream().toList();
    if (w.size() != m.size()) {
      throw new IllegalArgumentException(
          "working and master models differ: " + w.size() + " against " + m.size() + " parameters");
    }
    for (int i = 0; i < w.size(); i++) {
      Parameter wp = w.get(i).getValue();
      Parameter mp = m.get(i).getValue();
      if (!w.get(i).getKey().equals(m.get(i).getKey()) || !wp.getShape().equals(mp.getShape())) {
        throw new IllegalArgumentException(
            "working and master models differ at " + w.get(i).getKey());
      }
      if (wp.requiresGradient()) {
        names.add(w.get(i).getKey());
        workingTrainable.add(wp);
        masterTrainable.add(mp.getArray());
      } else {
        bufferNames.add(w.get(i).getKey());
        workingBuffers.add(wp);
        masterBuffers.add(mp);
      }
    }
  }

  public boolean isSeparate() {
    return working != master;
  }

  public Block working() {
    return working;
  }

  public Block master() {
    return master;
  }

  public DataType workingType() {
    return workingTrainable.get(0).getArray().getDataType();
  }

  /** DJL's names of the trainable parameters, in the order of {@link #masterArrays()}. */
  public List<String> names() {
    return names;
  }

  /** The FP32 master weights: what the optimizer updates and a checkpoint saves. */
  public List<NDArray> masterArrays() {
    return masterTrainable;
  }

  /** DJL's names of the parameters that take no gradient (BatchNorm running statistics). */
  public List<String> bufferNames() {
    return bufferNames;
  }

  /**
   * Those buffers, FP32, as the working model keeps them up to date: a checkpoint saves them with
   * the weights.
   */
  public List<NDArray> buffers() {
    return workingBuffers.stream().map(Parameter::getArray).toList();
  }

  /** Gradients of the working parameters, as backward left them (scaled, working precision). */
  public List<NDArray> workingGradients() {
    List<NDArray> grads = new ArrayList<>(workingTrainable.size());
    for (Parameter p : workingTrainable) {
      grads.add(p.getArray().getGradient());
    }
    return grads;
  }

  /**
   * Sets every gradient to zero by filling it: libtorch's {@code zero_} on each parameter's
   * gradient, one native call per parameter, as DJL's own optimizers clear gradients after their
   * update (nothing where backward has not run yet). DJL's {@code GradientCollector.zeroGradients}
   * subtracts a gradient from itself, which turns an inf left by an overflow into NaN for good; an
   * indexed fill of each gradient costs several native calls and a handle.
   */
  public void zeroGradients() {
    for (Parameter p : workingTrainable) {
      JniUtils.zeroGrad((PtNDArray) p.getArray());
    }
  }

  /**
   * Copies the master weights into the working parameters, rounding to the working precision, with
   * no temporary.
   */
  public void copyToWorking() {
    if (!isSeparate()) {
      return;
    }
    for (int i = 0; i < masterTrainable.size(); i++) {
      // An indexed assignment converts while it copies: no rounded copy of the master is made.
      workingTrainable.get(i).getArray().set(ALL, masterTrainable.get(i));
    }
  }

  /**
   * Makes the master block usable on its own: copies the running statistics the working block
   * keeps.
   */
  public void syncBuffersToMaster() {
    if (!isSeparate()) {
      return;
    }
    for (int i = 0; i < workingBuffers.size(); i++) {
      workingBuffers.get(i).getArray().copyTo(masterBuffers.get(i).getArray());
    }
  }
}
