package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Allocates an optimizer's FP32 state arrays (zeros) along {@link ParameterGroups}: one array per
 * group (what the update runs on) and, for each parameter, its part of it (what a checkpoint saves
 * and restores in place: a view of a flat group's array).
 */
final class GroupedState {
  private final List<NDArray> weights;
  private final ParameterGroups groups;
  private final NDManager manager;

  GroupedState(List<NDArray> weights, ParameterGroups groups, NDManager manager) {
    if (weights.size() != groups.parameters()) {
      throw new IllegalArgumentException(
          weights.size() + " weights for " + groups.parameters() + " grouped parameters");
    }
    this.weights = weights;
    this.groups = groups;
    this.manager = manager;
  }

  /** One state array of the weights' size: per group, and per parameter. */
  record Arrays(List<NDArray> perGroup, List<NDArray> perParameter) {}

  Arrays allocate() {
    List<NDArray> perGroup = new ArrayList<>(groups.count());
    NDArray[] perParameter = new NDArray[weights.size()];
    for (int g = 0; g < groups.count(); g++) {
      int[] members = groups.members(g);
      if (!groups.isFlat(g)) {
        NDArray array = manager.zeros(weights.get(members[0]).getShape(), DataType.FLOAT32);
        perGroup.add(array);
        perParameter[members[0]] = array;
        continue;
      }
      NDArray flat = manager.zeros(new Shape(groups.elements(g)), DataType.FLOAT32);
      perGroup.add(flat);
      for (int p : members) {
        perParameter[p] = groups.view(flat, p, weights.get(p).getShape());
      }
    }
    return new Arrays(perGroup, List.of(perParameter));
  }

  ParameterGroups groups() {
    return groups;
  }

  int parameters() {
    return weights.size();
  }
}
