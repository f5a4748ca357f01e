package dev.mpj.trainer.data;

import java.util.Arrays;
import java.util.Random;

/** The training and validation samples; which sample goes where depends only on the seed. */
public record DataSplit(Dataset train, Dataset validation) {

  public static DataSplit of(Dataset all, double validationFraction, long seed) {
    int n = all.samples();
    int[] order = DataOrder.permutation(n, new Random(seed ^ 0x5EED_5B17L));
    int held = (int) Math.floor(n * validationFraction);
    held = Math.min(held, n - 1);
    int[] validation = new int[held];
    int[] train = new int[n - held];
    System.arraycopy(order, 0, validation, 0, held);
    System.arraycopy(order, held, train, 0, n - held);
    Arrays.sort(validation);
    Arrays.sort(train);
    return new DataSplit(all.select(train), all.select(validation));
  }
}
