package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How the update step groups the trainable parameters. Small parameters (fewer than {@link
 * #CAPACITY} elements), in order, share groups of at most {@link #CAPACITY} elements: their FP32
 * master weights and optimizer state are views of one flat buffer per group, and each step their
 * gradients are concatenated into one flat array ({@code MasterWeights.groupedGradients}), so that
 * the norm (the overflow check) and the optimizer's fused update run once per group instead of once
 * per parameter. At a small model the step's fixed cost is these native calls, not the arithmetic
 * (the quick-start's MLP: six parameters, 21,768 elements, one group). A larger parameter is a
 * group of its own, updated in {@link Slices pieces} as before. A group's flat gradient is at most
 * {@link #CAPACITY} elements (256 KiB of FP32), so grouping adds at most that per group to the
 * update's memory.
 */
public final class ParameterGroups {
  /** Elements a group holds at most (and below which a parameter counts as small). */
  public static final long CAPACITY = Slices.FUSED_ELEMENTS;

  private final List<int[]> members;
  private final long[] sizes;
  private final int[] groupOf;
  private final long[] offsets;

  private ParameterGroups(List<int[]> members, long[] sizes) {
    this.members = List.copyOf(members);
    this.sizes = sizes.clone();
    this.groupOf = new int[sizes.length];
    this.offsets = new long[sizes.length];
    for (int g = 0; g < this.members.size(); g++) {
      long offset = 0;
      for (int p : this.members.get(g)) {
        groupOf[p] = g;
        offsets[p] = offset;
        offset += sizes[p];
      }
    }
  }

  /**
   * Groups parameters of {@code sizes} elements: each of {@code capacity} elements or more alone;
   * the smaller ones, in order, into groups of at most {@code capacity} elements (a parameter that
   * does not fit into the open group starts the next one). Groups are ordered by their first
   * parameter.
   */
  public static ParameterGroups plan(long[] sizes, long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
    }
    List<int[]> groups = new ArrayList<>();
    List<Integer> open = new ArrayList<>();
    long openSize = 0;
    for (int p = 0; p < sizes.length; p++) {
      if (sizes[p] >= capacity) {
        groups.add(new int[] {p});
        continue;
      }
      if (openSize + sizes[p] > capacity) {
        groups.add(open.stream().mapToInt(Integer::intValue).toArray());
        open.clear();
        openSize = 0;
      }
      open.add(p);
      openSize += sizes[p];
    }
    if (!open.isEmpty()) {
      groups.add(open.stream().mapToInt(Integer::intValue).toArray());
    }
    groups.sort(Comparator.comparingInt(g -> g[0]));
    return new ParameterGroups(groups, sizes);
  }

  /** Every parameter a group of its own: the update runs per parameter. */
  public static ParameterGroups separate(long[] sizes) {
    List<int[]> groups = new ArrayList<>();
    for (int p = 0; p < sizes.length; p++) {
      groups.add(new int[] {p});
    }
    return new ParameterGroups(groups, sizes);
  }

  /** The groups of arrays of {@code shapes}, planned with {@link #CAPACITY}. */
  public static ParameterGroups plan(List<Shape> shapes) {
    return plan(shapes.stream().mapToLong(Shape::size).toArray(), CAPACITY);
  }

  public int count() {
    return members.size();
  }

  public int parameters() {
    return sizes.length;
  }

  /** The parameters of group {@code g}, in order. */
  public int[] members(int g) {
    return members.get(g).clone();
  }

  /** Whether group {@code g} holds several parameters in one flat buffer. */
  public boolean isFlat(int g) {
    return members.get(g).length > 1;
  }

  /** Elements of group {@code g}. */
  public long elements(int g) {
    long total = 0;
    for (int p : members.get(g)) {
      total += sizes[p];
    }
    return total;
  }

  /** The group parameter {@code p} is in. */
  public int groupOf(int p) {
    return groupOf[p];
  }

  /** Where parameter {@code p} starts in its group's flat buffer. */
  public long offset(int p) {
    return offsets[p];
  }

  /**
   * Parameter {@code p}'s part of its group's flat buffer {@code flat}, in the parameter's {@code
   * shape}: a view (it shares the buffer's memory), in {@code flat}'s manager.
   */
  public NDArray view(NDArray flat, int p, Shape shape) {
    try (NDArray part = flat.get(new NDIndex().addSliceDim(offsets[p], offsets[p] + sizes[p]))) {
      return part.reshape(shape);
    }
  }

  /**
   * Makes every parameter of every flat group a view of its group's array again, keeping the
   * parameter's values. DJL's {@code set(Buffer)} (and {@code copyTo}, which uses it) does not
   * write into an array's memory: it gives the array new memory of its own, which cuts a view off
   * its group's buffer. A restore that writes that way (a checkpoint, the state a joining replica
   * receives) is followed by this: each parameter's values are copied into its part of the group's
   * array, and the parameter is pointed at that part again (with the same {@code set(Buffer)},
   * given the part's own memory). Costs a copy of the grouped parameters; meant for restores, not
   * steps.
   *
   * @param groupArrays one array per group (a flat group's buffer)
   * @param perParameter one array per parameter, in order
   */
  public void reattach(List<NDArray> groupArrays, List<NDArray> perParameter) {
    for (int g = 0; g < members.size(); g++) {
      if (!isFlat(g)) {
        continue;
      }
      NDArray flat = groupArrays.get(g);
      for (int p : members.get(g)) {
        NDArray parameter = perParameter.get(p);
        try (NDArray values = parameter.duplicate();
            NDArray part = view(flat, p, parameter.getShape())) {
          part.set(new NDIndex("..."), values);
          parameter.set(part.toByteBuffer(true));
        }
      }
    }
  }
}
