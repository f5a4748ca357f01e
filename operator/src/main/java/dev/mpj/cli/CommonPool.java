package dev.mpj.cli;

import java.util.OptionalInt;

/**
 * The JDK's HTTP client (the Kubernetes client's transport) hands each response to a dependent task
 * on CompletableFuture's default async pool. Where the JVM sees 2 CPUs or fewer, as in an operator
 * pod with a small CPU limit, the common pool's parallelism is 1 and that default pool starts a new
 * thread for every task (JDK-8213115): {@code mpj bench operator} counted about 30,000 threads
 * started for 1,000 jobs. A common pool of 2 threads serves those tasks instead. It is set before
 * anything uses the pool, and never over a value the user chose.
 */
final class CommonPool {
  static final String PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  /** The smallest parallelism with which CompletableFuture uses the common pool. */
  static final int SHARED = 2;

  private CommonPool() {}

  /**
   * The parallelism to set, or none: none where the user set one, or where the JDK's own default
   * (one less than the CPUs) already shares the pool.
   */
  static OptionalInt parallelismFor(String configured, int cpus) {
    if (configured != null || cpus - 1 >= SHARED) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(SHARED);
  }

  /** Sets the common pool's parallelism for this JVM; call first thing in main. */
  static void share() {
    parallelismFor(System.getProperty(PARALLELISM), Runtime.getRuntime().availableProcessors())
        .ifPresent(p -> System.setProperty(PARALLELISM, Integer.toString(p)));
  }
}
