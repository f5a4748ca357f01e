package dev.mpj.trainer.cli;

import dev.mpj.api.TrainerContract;
import java.util.Map;
import java.util.Optional;

/**
 * Under {@code mpj local}, the trainer stops when the local kubelet's process is gone: {@code mpj
 * local} ended by SIGKILL (or a crash) cannot stop its trainers itself, and they would otherwise
 * run on, holding ports and CPUs. A pod on a real cluster has no such variable and is never stopped
 * by this.
 */
final class KubeletWatch {
  private KubeletWatch() {}

  /**
   * The process named by {@link TrainerContract#ENV_LOCAL_KUBELET_PID}, if the variable is set and
   * is a process id; a set variable that is not a number is ignored.
   */
  static Optional<Long> kubeletPid(Map<String, String> env) {
    String pid = env.get(TrainerContract.ENV_LOCAL_KUBELET_PID);
    if (pid == null || pid.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(pid.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Runs {@code stop} once the kubelet's process has ended (at once if it is gone already); returns
   * whether there is a kubelet to watch.
   */
  static boolean stopWhenGone(Map<String, String> env, Runnable stop) {
    Optional<Long> pid = kubeletPid(env);
    if (pid.isEmpty()) {
      return false;
    }
    Optional<ProcessHandle> kubelet = ProcessHandle.of(pid.get());
    if (kubelet.isEmpty()) {
      stop.run();
    } else {
      kubelet.get().onExit().thenRun(stop);
    }
    return true;
  }
}
