package dev.mpj.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.cli.LocalCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj chaos}: runs a small job under {@code mpj local} again and again, each run with a
 * fault drawn from a printed seed (see {@link ChaosFault.Kind}), and checks that each recovers as
 * it must ({@link RunOutcome}, a check per kind, and {@link StatusTrail}); the final weights of
 * each run are compared with an uninterrupted run of the same job and precision.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "Chaos runs of a small job under mpj local: each run injects one fault (--faults) at a"
          + " random point drawn from the printed seed, and must end Succeeded with the restarts the"
          + " fault needs, one pod per rank and attempt, a resume from the newest checkpoint that"
          + " was published when the fault struck, no status regression, and final weights"
          + " byte-identical to an uninterrupted run.",
      "Prints one line per run and a summary; exits 0 when every run recovered, 1 otherwise."
    })
public final class ChaosCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String JOB = "chaos";
  static final int REPLICAS = 2;

  @Option(names = "--runs", defaultValue = "20", description = "Runs (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--seed", description = "Seed of the faults (default: drawn and printed).")
  Long seed;

  @Option(
      names = "--precisions",
      split = ",",
      defaultValue = "fp32,fp16-mixed",
      description = "Precisions, in turn (default ${DEFAULT-VALUE}).")
  List<String> precisions;

  @Option(
      names = "--faults",
      split = ",",
      defaultValue =
          "kill,corrupt-newest,kill-during-write,disk-full,sigstop,kill-at-rendezvous,operator-restart",
      description =
          "Kinds of fault to draw from (default ${DEFAULT-VALUE}): kill (SIGKILL of a replica at a"
              + " step), corrupt-newest (the newest checkpoint damaged, then a kill), kill-during-write"
              + " (rank 0 killed halfway through a checkpoint write), disk-full (the volume full for"
              + " one checkpoint: no restart), sigstop (a replica stopped at a step: the other's"
              + " collective times out), kill-at-rendezvous (a replica killed at start-up, while"
              + " the group forms), operator-restart (the operator's process SIGKILLed at a step and"
              + " started again: no restart of the job).")
  List<String> faultKinds;

  @Option(
      names = "--steps",
      defaultValue = "80",
      description = "Training steps of the job (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--checkpoint-interval",
      defaultValue = "20",
      description = "Its checkpoint interval in steps (default ${DEFAULT-VALUE}).")
  int interval;

  @Option(
      names = "--work-dir",
      defaultValue = ".mpj-chaos",
      description = "Where the runs' work dirs go (default ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(
      names = "--run-timeout",
      defaultValue = "PT10M",
      description = "Give up on a run after this long (default ${DEFAULT-VALUE}).")
  Duration runTimeout;

  @Option(
      names = "--trainer",
      hidden = true,
      description = "The mpj-trainer launcher (default: bin/mpj-trainer next to bin/mpj).")
  Path trainer;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (steps % interval != 0 || steps < 2 * interval) {
      throw new InvalidJobException(
          "--steps",
          "must be a multiple of --checkpoint-interval and at least two intervals (got "
              + steps
              + " and "
              + interval
              + ")");
    }
    long drawn = seed != null ? seed : new Random().nextLong();
    Path launcher = trainer != null ? trainer : LocalCommand.defaultTrainerLauncher();
    Files.createDirectories(workDir);
    out.printf(
        "mpj chaos: seed %d, %d runs, job of %d replicas, %d steps, checkpoint every %d (rerun:"
            + " mpj chaos --seed %d --runs %d --precisions %s --faults %s --steps %d"
            + " --checkpoint-interval %d)%n",
        drawn,
        runs,
        REPLICAS,
        steps,
        interval,
        drawn,
        runs,
        String.join(",", precisions),
        String.join(",", faultKinds),
        steps,
        interval);
    out.flush();

    List<ChaosFault.Kind> kinds;
    try {
      kinds = faultKinds.stream().map(ChaosFault.Kind::ofFlag).distinct().toList();
    } catch (IllegalArgumentException e) {
      throw new InvalidJobException("--faults", e.getMessage());
    }
    List<ChaosFault> faults =
        ChaosFault.draw(drawn, runs, precisions, kinds, REPLICAS, steps, interval);
    // The uninterrupted run of each precision that the runs are compared with.
    Map<String, Path> baselines = new HashMap<>();
    for (String precision : precisions.stream().distinct().toList()) {
      Path dir = workDir.resolve("uninterrupted-" + precision);
      Run run = local(launcher, dir, precision, null);
      MixedPrecisionJob job = finalJob(dir);
      if (run.exitCode != 0 || job == null || job.getStatus().restarts != 0) {
        out.printf(
            "uninterrupted %s run did not succeed cleanly (exit %d); see %s%n",
            precision, run.exitCode, dir.resolve("mpj-local.log"));
        return 1;
      }
      baselines.put(precision, finalCheckpoint(dir));
      out.printf("uninterrupted %-10s Succeeded in %.0f s%n", precision, run.seconds);
      out.flush();
    }

    int recovered = 0;
    int restartsNeeded = 0;
    List<Double> recoveries = new ArrayList<>();
    List<Double> operatorRecoveries = new ArrayList<>();
    for (ChaosFault fault : faults) {
      Path dir = workDir.resolve(String.format("run-%02d", fault.run()));
      Run run = local(launcher, dir, fault.precision(), fault);
      restartsNeeded += fault.kind().restarts;
      boolean restarts = fault.kind().restarts > 0;
      List<String> problems = new ArrayList<>();
      String facts;
      MixedPrecisionJob job = finalJob(dir);
      if (job == null) {
        problems.add("no final job.yaml (exit " + run.exitCode + ")");
        facts = "";
      } else {
        long resumed = restarts ? resumedFrom(dir) : 0;
        RunOutcome.Resume resume = null;
        if (restarts && run.stepAtFault == null) {
          problems.add("the fault was not seen to happen");
        } else if (restarts) {
          resume =
              new RunOutcome.Resume(
                  run.stepAtFault,
                  run.publishedAtFault,
                  fault.destroyedCheckpoints(),
                  lastStep(dir, 0, 1),
                  resumed,
                  interval);
        }
        RunOutcome outcome =
            new RunOutcome(
                String.valueOf(job.getStatus().phase),
                job.getStatus().restarts,
                pods(dir),
                expectedPods(1 + fault.kind().restarts),
                resume,
                sameFiles(finalCheckpoint(dir), baselines.get(fault.precision())));
        problems.addAll(outcome.problems(fault.kind().restarts));
        problems.addAll(faultChecks(dir, fault, run, resumed));
        problems.addAll(StatusTrail.regressions(Files.readAllLines(dir.resolve("mpj-local.log"))));
        facts =
            String.format(
                "%s, restarts %d, %s, weights %s",
                outcome.phase(),
                outcome.restarts(),
                resume != null
                    ? String.format(
                        "resumed from %d (lost %d; at the fault: step %d, newest published %d)",
                        resumed,
                        outcome.lostSteps(),
                        resume.stepAtFault(),
                        resume.publishedAtFault())
                    : fault.kind() == ChaosFault.Kind.OPERATOR_RESTART && run.stepAtFault != null
                        ? "no resume (operator killed at rank 0's step " + run.stepAtFault + ")"
                        : "no resume",
                outcome.identicalWeights() ? "identical" : "DIFFER");
      }
      if (problems.isEmpty()) {
        recovered++;
      }
      if (run.recoverySeconds != null) {
        recoveries.add(run.recoverySeconds);
      }
      if (run.operatorRecoverySeconds != null) {
        operatorRecoveries.add(run.operatorRecoverySeconds);
      }
      String timing =
          fault.kind() == ChaosFault.Kind.OPERATOR_RESTART
              ? "operator kill to the new operator's first status update "
                  + seconds(run.operatorRecoverySeconds)
              : "kill to first resumed step " + seconds(run.recoverySeconds);
      out.printf(
          "run %2d/%d %-10s %s: %s; %s  %s%n",
          fault.run(),
          runs,
          fault.precision(),
          fault.describe(),
          facts,
          timing,
          problems.isEmpty() ? "OK" : "FAILED: " + String.join("; ", problems));
      out.flush();
    }
    out.printf(
        "summary: %d runs, %d faults injected (%d needing a restart), %d recovered, median kill to"
            + " first resumed step %s%s (seed %d)%n",
        runs,
        faults.size(),
        restartsNeeded,
        recovered,
        recoveries.isEmpty() ? "-" : seconds(median(recoveries)),
        operatorRecoveries.isEmpty()
            ? ""
            : ", median operator kill to the new operator's first status update "
                + seconds(median(operatorRecoveries)),
        drawn);
    out.flush();
    return recovered == runs ? 0 : 1;
  }

  /**
   * The outcome of one mpj local: its exit code, how long, kill to attempt 2's first step, the step
   * of the checkpoint a {@link ChaosFault.Kind#CORRUPT_NEWEST} run damaged (else null), rank 0's
   * step and the newest published checkpoint when the fault was seen (null and 0 when it was not),
   * and for an operator restart the kill to the new operator's first status update.
   */
  private record Run(
      int exitCode,
      double seconds,
      Double recoverySeconds,
      Long corruptedStep,
      Long stepAtFault,
      long publishedAtFault,
      Double operatorRecoverySeconds) {}

  private static String seconds(Double s) {
    return s == null ? "-" : String.format("%.1f s", s);
  }

  /** What the fault's kind must show beyond {@link RunOutcome}. */
  private List<String> faultChecks(Path dir, ChaosFault fault, Run run, long resumed)
      throws IOException {
    List<String> problems = new ArrayList<>();
    switch (fault.kind()) {
      case KILL -> {}
      case KILL_AT_RENDEZVOUS -> {
        if (lastStep(dir, fault.rank(), 1) != 0) {
          problems.add(
              "the kill came after rank " + fault.rank() + "'s first step, not in the rendezvous");
        }
      }
      case SIGSTOP -> {
        int other = 1 - fault.rank();
        Path log = dir.resolve("work/pods/" + JOB + "-worker-" + other + "-attempt-1/log.txt");
        String said = Files.exists(log) ? Files.readString(log) : "";
        String timeout = String.format("%.1f s", (double) ChaosFault.Kind.STOP_TIMEOUT_SECONDS);
        if (!said.contains("sent nothing for " + timeout)
            && !said.contains("read nothing for " + timeout)) {
          problems.add(
              "rank "
                  + other
                  + "'s log does not show its collective timing out after "
                  + timeout
                  + " (what must end a stopped replica's attempt)");
        }
      }
      case CORRUPT_NEWEST -> {
        if (run.corruptedStep == null) {
          problems.add("no checkpoint to corrupt was found before attempt 2 started");
        } else {
          if (resumed != run.corruptedStep - interval) {
            problems.add(
                "resumed from "
                    + resumed
                    + ", not from "
                    + (run.corruptedStep - interval)
                    + " (the checkpoint before the corrupted "
                    + run.corruptedStep
                    + ")");
          }
          JsonNode damaged = summary(dir, 2).path("checkpoints").path("damagedSkipped");
          if (!damaged.isArray() || damaged.isEmpty()) {
            problems.add("attempt 2 did not report the corrupted checkpoint as damaged");
          }
        }
      }
      case KILL_DURING_WRITE -> {
        if (resumed != fault.step() - interval) {
          problems.add(
              "resumed from "
                  + resumed
                  + ", not from "
                  + (fault.step() - interval)
                  + " (the checkpoint before the one whose write was killed)");
        }
      }
      case OPERATOR_RESTART -> {
        String log = Files.readString(dir.resolve("mpj-local.log"));
        if (!log.contains("operator process 2 started") || log.contains("operator process 3")) {
          problems.add(
              "the operator process was not started exactly twice (see "
                  + dir.resolve("work/operator/log.txt")
                  + ")");
        }
        if (run.operatorRecoverySeconds == null) {
          problems.add("no status update after the operator's restart");
        }
        List<String> events =
            log.lines()
                .filter(l -> l.matches("^\\[\\s*[\\d.]+s\\] event .*"))
                .map(l -> l.substring(l.indexOf(']')))
                .toList();
        if (events.size() != events.stream().distinct().count()) {
          problems.add("an Event was recorded twice: " + events);
        }
        long last = lastStep(dir, 0, 1);
        if (last != steps) {
          problems.add("rank 0's attempt 1 ended at step " + last + ", not " + steps);
        }
      }
      case DISK_FULL -> {
        int failed = summary(dir, 1).path("checkpoints").path("failedForSpace").asInt(-1);
        if (failed != 1) {
          problems.add(failed + " checkpoints failed for space in rank 0's summary, expected 1");
        }
      }
    }
    return problems;
  }

  private static JsonNode summary(Path dir, int attempt) throws IOException {
    Path file =
        dir.resolve(
            "work/pods/" + JOB + "-worker-0-attempt-" + attempt + "/volumes/output/summary.json");
    return Files.exists(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
  }

  /**
   * Flips a byte in the middle of the newest checkpoint's model file on the job's volume; returns
   * its step, or null when there is none.
   */
  private static Long corruptNewest(Path dir) throws IOException {
    Path volumes = dir.resolve("work/volumes");
    if (!Files.isDirectory(volumes)) {
      return null;
    }
    Path newest;
    try (Stream<Path> all = Files.list(volumes)) {
      Path volume = all.findFirst().orElse(null);
      if (volume == null) {
        return null;
      }
      try (Stream<Path> folders = Files.list(volume)) {
        newest =
            folders
                .filter(p -> p.getFileName().toString().matches("step-\\d+"))
                .max(Path::compareTo)
                .orElse(null);
      }
    }
    if (newest == null) {
      return null;
    }
    Path model = newest.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(model, bytes);
    return Long.parseLong(newest.getFileName().toString().substring("step-".length()));
  }

  /**
   * Runs {@code mpj local} in a child JVM on the chaos job; with a fault, times the kill (its line
   * in the output) to the first step rank 0 logs in attempt 2.
   */
  private Run local(Path launcher, Path dir, String precision, ChaosFault fault)
      throws IOException, InterruptedException {
    deleteTree(dir);
    Files.createDirectories(dir);
    Path manifest = dir.resolve("job.input.yaml");
    Files.writeString(manifest, manifest(precision, steps, interval));
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.mpj.cli.MpjCommand",
                "local",
                "--trainer",
                launcher.toString(),
                "-f",
                manifest.toString(),
                "--work-dir",
                dir.resolve("work").toString(),
                "--timeout",
                runTimeout.toString()));
    if (fault != null && fault.failFlag() != null) {
      command.addAll(List.of("--fail", fault.failFlag()));
    }
    boolean operatorRestart = fault != null && fault.kind() == ChaosFault.Kind.OPERATOR_RESTART;
    if (operatorRestart) {
      command.add("--operator-process");
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    String trainerOptions = "-Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1";
    if (fault != null && fault.trainerOption() != null) {
      trainerOptions += " " + fault.trainerOption();
    }
    builder.environment().put("MPJ_TRAINER_JAVA_OPTS", trainerOptions);
    if (fault != null && fault.kind() == ChaosFault.Kind.SIGSTOP) {
      // The trainers inherit mpj local's environment: a small collective timeout for this run.
      builder
          .environment()
          .put(
              TrainerContract.ENV_COLLECTIVE_TIMEOUT_SECONDS,
              String.valueOf(ChaosFault.Kind.STOP_TIMEOUT_SECONDS));
    }
    long start = System.nanoTime();
    Process process = builder.start();
    long[] killedAt = {0};
    AtFault atFault = new AtFault();
    // An operator restart: when the new operator's process started, then its first status line.
    long[] operatorBack = {0, 0};
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  var log = Files.newBufferedWriter(dir.resolve("mpj-local.log"))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  if (line.contains("--fail: killing replica") && killedAt[0] == 0) {
                    killedAt[0] = System.nanoTime();
                    atFault.record(dir);
                  }
                  if (operatorRestart
                      && killedAt[0] != 0
                      && line.contains("operator process 2 started")) {
                    operatorBack[0] = System.nanoTime();
                  }
                  if (operatorBack[0] != 0
                      && operatorBack[1] == 0
                      && StatusTrail.isStatusLine(line)) {
                    operatorBack[1] = System.nanoTime();
                  }
                  log.write(line);
                  log.newLine();
                }
              } catch (IOException e) {
                // The child is gone; its log ends here.
              }
            },
            "mpj-chaos-output");
    reader.start();
    Double recovery = null;
    Long corrupted = null;
    Path attempt2 = dir.resolve("work/pods/" + JOB + "-worker-0-attempt-2");
    Path resumedMetrics =
        dir.resolve("work/pods/" + JOB + "-worker-0-attempt-2/volumes/output/metrics.jsonl");
    long deadline = start + runTimeout.toNanos() + TimeUnit.MINUTES.toNanos(1);
    while (process.isAlive() && System.nanoTime() < deadline) {
      if (fault != null
          && fault.kind() == ChaosFault.Kind.KILL_DURING_WRITE
          && killedAt[0] == 0
          && killMarkerExists(dir, fault.step())) {
        killedAt[0] = System.nanoTime(); // the trainer wrote it just before halting
        atFault.record(dir);
      }
      if (fault != null
          && fault.kind() == ChaosFault.Kind.KILL_AT_RENDEZVOUS
          && killedAt[0] == 0
          && logSays(dir, fault.rank(), "mpj-trainer: data: ")) {
        signal(dir, fault.rank(), "-KILL");
        killedAt[0] = System.nanoTime();
        atFault.record(dir);
      }
      if (fault != null
          && fault.kind() == ChaosFault.Kind.SIGSTOP
          && killedAt[0] == 0
          && lastStep(dir, fault.rank(), 1) >= fault.step()) {
        signal(dir, fault.rank(), "-STOP");
        killedAt[0] = System.nanoTime();
        atFault.record(dir);
      }
      if (operatorRestart && killedAt[0] == 0 && operatorKillDue(dir, fault.step())) {
        Path pid = dir.resolve("work/operator/pid");
        Process kill = new ProcessBuilder("kill", "-KILL", Files.readString(pid).strip()).start();
        kill.waitFor(10, TimeUnit.SECONDS);
        killedAt[0] = System.nanoTime();
        atFault.record(dir);
      }
      if (fault != null
          && fault.kind() == ChaosFault.Kind.CORRUPT_NEWEST
          && corrupted == null
          && killedAt[0] != 0
          && Files.exists(attempt2)) {
        // Attempt 1's pods are gone, attempt 2's trainer has not read the volume yet (it starts a
        // JVM and libtorch first): damage the checkpoint it would resume from.
        corrupted = corruptNewest(dir);
      }
      if (fault != null
          && recovery == null
          && killedAt[0] != 0
          && Files.exists(resumedMetrics)
          && Files.size(resumedMetrics) > 0) {
        recovery = (System.nanoTime() - killedAt[0]) / 1e9;
      }
      process.waitFor(100, TimeUnit.MILLISECONDS);
    }
    if (process.isAlive()) {
      // SIGTERM first: mpj local stops its trainers; then whatever is left, trainers included.
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor();
      }
    }
    reader.join(5000);
    Double operatorRecovery = operatorBack[1] == 0 ? null : (operatorBack[1] - killedAt[0]) / 1e9;
    return new Run(
        process.exitValue(),
        (System.nanoTime() - start) / 1e9,
        recovery,
        corrupted,
        atFault.step,
        atFault.published,
        operatorRecovery);
  }

  /**
   * Rank 0's newest step, then the newest checkpoint published on the volume, read once, when the
   * fault is seen: in that order, so that the checkpoint rank 0's loop had waited for by that step
   * is on the volume if the writer kept its promise.
   */
  private static final class AtFault {
    volatile Long step;
    volatile long published;

    synchronized void record(Path dir) {
      if (step != null) {
        return;
      }
      try {
        long at = lastStep(dir, 0, 1);
        published = newestPublished(dir);
        step = at;
      } catch (IOException e) {
        // Left unrecorded: the run reports the fault as not seen.
      }
    }
  }

  /**
   * Whether the operator-restart fault is due: the operator's pid file is there and rank 0 reached
   * {@code step}, or for step 0 both trainers of attempt 1 are started (their pid files).
   */
  private static boolean operatorKillDue(Path dir, long step) throws IOException {
    if (!Files.exists(dir.resolve("work/operator/pid"))) {
      return false;
    }
    if (step == 0) {
      for (int rank = 0; rank < REPLICAS; rank++) {
        if (!Files.exists(dir.resolve("work/pods/" + JOB + "-worker-" + rank + "-attempt-1/pid"))) {
          return false;
        }
      }
      return true;
    }
    return lastStep(dir, 0, 1) >= step;
  }

  /**
   * The step of the newest checkpoint published (renamed into place) on the job's volume; 0: none.
   */
  private static long newestPublished(Path dir) throws IOException {
    Path volumes = dir.resolve("work/volumes");
    if (!Files.isDirectory(volumes)) {
      return 0;
    }
    long newest = 0;
    try (Stream<Path> all = Files.list(volumes)) {
      for (Path volume : all.toList()) {
        try (Stream<Path> folders = Files.list(volume)) {
          for (Path folder : folders.toList()) {
            String name = folder.getFileName().toString();
            if (name.matches("step-\\d+")) {
              newest = Math.max(newest, Long.parseLong(name.substring("step-".length())));
            }
          }
        }
      }
    }
    return newest;
  }

  /**
   * Sends a signal to rank {@code rank}'s trainer of attempt 1 (its pid file, as mpj local wrote
   * it).
   */
  private static void signal(Path dir, int rank, String signal)
      throws IOException, InterruptedException {
    Path pid = dir.resolve("work/pods/" + JOB + "-worker-" + rank + "-attempt-1/pid");
    Process kill = new ProcessBuilder("kill", signal, Files.readString(pid).strip()).start();
    kill.waitFor(10, TimeUnit.SECONDS);
  }

  /** Whether rank {@code rank}'s log of attempt 1 has a line starting with {@code start}. */
  private static boolean logSays(Path dir, int rank, String start) throws IOException {
    Path log = dir.resolve("work/pods/" + JOB + "-worker-" + rank + "-attempt-1/log.txt");
    if (!Files.exists(log) || !Files.exists(log.resolveSibling("pid"))) {
      return false;
    }
    try (Stream<String> lines = Files.lines(log)) {
      return lines.anyMatch(l -> l.startsWith(start));
    }
  }

  private static boolean killMarkerExists(Path dir, long step) throws IOException {
    Path volumes = dir.resolve("work/volumes");
    if (!Files.isDirectory(volumes)) {
      return false;
    }
    try (Stream<Path> all = Files.list(volumes)) {
      String name = String.format(".killed-during-write-step-%08d", step);
      return all.anyMatch(v -> Files.exists(v.resolve(name)));
    }
  }

  /** The quick-start job, smaller: 2 replicas, {@code steps} steps, a checkpoint every interval. */
  static String manifest(String precision, int steps, int interval) {
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata:
          name: %s
        spec:
          precision: %s
          model:
            architecture: mlp
            mlp: {hiddenSizes: [64, 64], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 2048, features: 32, classes: 8}
            validationFraction: 0.2
          training:
            globalBatchSize: 64
            steps: %d
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
          replicas: {min: %d, max: %d}
          resources: {gpusPerReplica: 1, gpuMemory: 16Gi, cpu: "1", memory: 2Gi}
          checkpoint:
            intervalSteps: %d
            keep: 2
            volume: {size: 1Gi}
          runPolicy: {backoffLimit: 3}
        """
        .formatted(JOB, precision, steps, REPLICAS, REPLICAS, interval);
  }

  private static MixedPrecisionJob finalJob(Path dir) throws IOException {
    Path file = dir.resolve("work/job.yaml");
    return Files.exists(file) ? JobFiles.parse(Files.readString(file)) : null;
  }

  /** The newest checkpoint folder of the job's volume. */
  private static Path finalCheckpoint(Path dir) throws IOException {
    try (Stream<Path> volumes = Files.list(dir.resolve("work/volumes"))) {
      Path volume = volumes.findFirst().orElseThrow();
      try (Stream<Path> steps = Files.list(volume)) {
        return steps
            .filter(p -> p.getFileName().toString().startsWith("step-"))
            .max(Path::compareTo)
            .orElseThrow();
      }
    }
  }

  /** Whether the model and optimizer files of two checkpoints are byte for byte the same. */
  private static boolean sameFiles(Path a, Path b) throws IOException {
    if (!a.getFileName().equals(b.getFileName())) {
      return false;
    }
    for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
      if (!Arrays.equals(
          Files.readAllBytes(a.resolve(file)), Files.readAllBytes(b.resolve(file)))) {
        return false;
      }
    }
    return true;
  }

  private static List<String> pods(Path dir) throws IOException {
    try (Stream<Path> pods = Files.list(dir.resolve("work/pods"))) {
      return pods.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<String> expectedPods(int attempts) {
    List<String> pods = new ArrayList<>();
    for (int rank = 0; rank < REPLICAS; rank++) {
      for (int attempt = 1; attempt <= attempts; attempt++) {
        pods.add(JOB + "-worker-" + rank + "-attempt-" + attempt);
      }
    }
    return pods;
  }

  private static long resumedFrom(Path dir) throws IOException {
    Path summary =
        dir.resolve("work/pods/" + JOB + "-worker-0-attempt-2/volumes/output/summary.json");
    if (!Files.exists(summary)) {
      return -1;
    }
    JsonNode resumed = JSON.readTree(summary.toFile()).get("resumedFromStep");
    return resumed == null || resumed.isNull() ? 0 : resumed.asLong();
  }

  private static long lastStep(Path dir, int rank, int attempt) throws IOException {
    Path metrics =
        dir.resolve(
            "work/pods/"
                + JOB
                + "-worker-"
                + rank
                + "-attempt-"
                + attempt
                + "/volumes/output/metrics.jsonl");
    if (!Files.exists(metrics)) {
      return 0;
    }
    long last = 0;
    for (String line : Files.readAllLines(metrics)) {
      if (!line.isBlank()) {
        try {
          last = Math.max(last, JSON.readTree(line).path("step").asLong());
        } catch (IOException e) {
          // A line cut by the kill.
        }
      }
    }
    return last;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
