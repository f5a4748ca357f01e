package dev.mpj.trainer.amp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import dev.mpj.trainer.optim.ParameterGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

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
  private final ParameterGroups groups;
  private final List<NDArray> masterGroups;
  private List<NDArray> gradients;
  private List<NDList> gradientParts;

  /** Working and master weights, each trainable parameter a group of its own. */
  public MasterWeights(Block working, Block master) {
    this(working, new GroupedMaster(master, null, null));
  }

  /**
   * Working weights and the {@link #buildMaster grouped master}: the update runs on the master's
   * groups.
   */
  public MasterWeights(Block working, GroupedMaster grouped) {
    Block master = grouped.block();
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
    if (grouped.groups() == null) {
      this.groups =
          ParameterGroups.separate(masterTrainable.stream().mapToLong(NDArray::size).toArray());
      this.masterGroups = List.copyOf(masterTrainable);
    } else {
      this.groups = grouped.groups();
      this.masterGroups = grouped.groupArrays();
    }
  }

  /**
   * An FP32 master block whose small trainable parameters are views of flat buffers ({@link
   * ParameterGroups}): {@code groupArrays} has one array per group, the flat buffer or the
   * parameter's own array. {@code groups} null: every parameter a group of its own.
   */
  public record GroupedMaster(Block block, ParameterGroups groups, List<NDArray> groupArrays) {}

  /**
   * Builds and initializes the FP32 master block: {@code build} makes a fresh block (of one spec
   * every time), the first one is initialized as usual (its parameters draw their values from the
   * engine's generator), and where {@link ParameterGroups#plan} groups several parameters together
   * their values are copied into one flat buffer per group and a second block is initialized with
   * those parameters as views of it (every other parameter and buffer is the first block's array).
   * The values are the same; the update, the norm and the optimizer state then take one native call
   * per group.
   */
  public static GroupedMaster buildMaster(
      Supplier<Block> build, NDManager manager, Shape inputShape) {
    Block first = build.get();
    first.initialize(manager, DataType.FLOAT32, inputShape);
    List<Parameter> all = first.getParameters().values();
    List<Integer> trainable = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).requiresGradient()) {
        trainable.add(i);
      }
    }
    List<Shape> shapes = trainable.stream().map(i -> all.get(i).getArray().getShape()).toList();
    ParameterGroups groups = ParameterGroups.plan(shapes);
    List<NDArray> groupArrays = new ArrayList<>(groups.count());
    NDArray[] views = new NDArray[trainable.size()];
    boolean anyFlat = false;
    for (int g = 0; g < groups.count(); g++) {
      int[] members = groups.members(g);
      if (!groups.isFlat(g)) {
        groupArrays.add(all.get(trainable.get(members[0])).getArray());
        continue;
      }
      anyFlat = true;
      NDArray flat = manager.zeros(new Shape(groups.elements(g)), DataType.FLOAT32);
      for (int p : members) {
        views[p] = groups.view(flat, p, shapes.get(p));
        views[p].set(new NDIndex("..."), all.get(trainable.get(p)).getArray());
      }
      groupArrays.add(flat);
    }
    if (!anyFlat) {
      return new GroupedMaster(first, groups, groupArrays);
    }
    Block second = build.get();
    List<Parameter> fresh = second.getParameters().values();
    if (fresh.size() != all.size()) {
      throw new IllegalStateException("the model builder made two different models");
    }
    NDArray[] arrays = new NDArray[all.size()];
    for (int i = 0; i < all.size(); i++) {
      arrays[i] = all.get(i).getArray();
    }
    for (int p = 0; p < trainable.size(); p++) {
      if (views[p] != null) {
        arrays[trainable.get(p)].close();
        arrays[trainable.get(p)] = views[p];
      }
    }
    for (int i = 0; i < all.size(); i++) {
      NDArray array = arrays[i];
      fresh.get(i).setInitializer((m, shape, type) -> array);
    }
    second.initialize(manager, DataType.FLOAT32, inputShape);
    return new GroupedMaster(second, groups, groupArrays);
  }

  /** How the master's trainable parameters are grouped for the update. */
  public ParameterGroups groups() {
    return groups;
  }

  /**
   * The FP32 master weights by {@link #groups() group}: what the optimizer updates (a flat group's
   * buffer holds its parameters' {@link #masterArrays()}).
   */
  public List<NDArray> masterGroups() {
    return masterGroups;
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

  /**
   * Gradients of the working parameters, as backward left them (scaled, working precision). The
   * arrays are fetched once, after the first backward pass, and kept: libtorch keeps each
   * parameter's gradient tensor from then on (backward adds into it in place, {@link
   * #zeroGradients} fills it with zeros, the replicas' sum is written into it), so the same arrays
   * hold every later step's gradients. They belong to the model, not to the step's scope.
   */
  public List<NDArray> workingGradients() {
    if (gradients == null) {
      List<NDArray> grads = new ArrayList<>(workingTrainable.size());
      for (Parameter p : workingTrainable) {
        NDArray gradient = p.getArray().getGradient();
        NDScope.unregister(gradient);
        grads.add(gradient);
      }
      gradients = List.copyOf(grads);
      gradientParts = new ArrayList<>(groups.count());
      for (int g = 0; g < groups.count(); g++) {
        NDList parts = new NDList();
        if (groups.isFlat(g)) {
          for (int p : groups.members(g)) {
            NDArray flat = gradients.get(p).reshape(-1);
            NDScope.unregister(flat);
            parts.add(flat);
          }
        }
        gradientParts.add(parts);
      }
    }
    return gradients;
  }

  /**
   * The gradients by {@link #groups() group}, after {@link #workingGradients()}: a flat group's
   * gradients concatenated into a new array (the caller closes it; in the step's scope), a group of
   * one parameter its gradient itself. One native call per flat group.
   */
  public List<NDArray> groupedGradients() {
    List<NDArray> all = workingGradients();
    List<NDArray> grouped = new ArrayList<>(groups.count());
    for (int g = 0; g < groups.count(); g++) {
      grouped.add(
          groups.isFlat(g) ? NDArrays.concat(gradientParts.get(g)) : all.get(groups.members(g)[0]));
    }
    return grouped;
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
   * no temporary. Called after every change of the master weights from outside the optimizer (a
   * restore): first it puts grouped master parameters that the restore gave memory of their own
   * back into their group's buffer ({@link ParameterGroups#reattach}).
   */
  public void copyToWorking() {
    // After a restore that gave the master arrays memory of their own: back into their groups.
    groups.reattach(masterGroups, masterTrainable);
    roundToWorking();
  }

  /**
   * Copies the master weights into the working parameters after an update step, rounding to the
   * working precision, with no temporary.
   */
  public void roundToWorking() {
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
