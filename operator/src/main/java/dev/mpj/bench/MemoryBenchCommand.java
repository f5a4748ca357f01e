package dev.mpj.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.Precision;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.bench.MemoryValidation.Case;
import dev.mpj.bench.MemoryValidation.Model;
import dev.mpj.bench.MemoryValidation.Result;
import dev.mpj.cli.LocalCommand;
import dev.mpj.operator.sizing.Bytes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mpj bench memory}: trains the built-in models with the real trainer, one child process per
 * run, and sets each run's measured peak memory beside the sizing model's prediction. A run reports
 * in summary.json its resident memory before and after its first step and the peaks of the first
 * step and of the steps after it; the child's Java heap is fixed and touched up front, so what the
 * steps add is native memory: libtorch's tensors (and, in the first step, libtorch's code).
 */
@Command(
    name = "memory",
    mixinStandardHelpOptions = true,
    description = {
      "Validate the sizing model on this machine's CPU.",
      "Trains mlp, cnn and transformer jobs at a few micro-batches in both precisions with bin/mpj-trainer"
          + " and prints the measured peak memory of the steps after the first (resident memory above the"
          + " process right after step 1) beside the prediction, and the first step's own figure.",
      "Takes a few minutes; needs the trainer built (mvn -B -DskipTests package)."
    })
public final class MemoryBenchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--models",
      split = ",",
      paramLabel = "NAME",
      description = "Models to run (default: mlp,cnn,transformer).")
  List<String> models = List.of("mlp", "cnn", "transformer");

  @Option(
      names = "--precisions",
      split = ",",
      paramLabel = "PRECISION",
      description = "fp32 and/or fp16-mixed (default both).")
  List<String> precisions = List.of("fp32", "fp16-mixed");

  @Option(
      names = "--micro-batches",
      split = ",",
      paramLabel = "N",
      description =
          "Micro-batches to measure for every chosen model (default: each model's own: mlp 256,1024,4096; cnn 64,256; transformer 8,32).")
  List<Integer> microBatches;

  @Option(
      names = "--steps",
      defaultValue = "3",
      description =
          "Training steps per run, 2 or more: the first, then the measured ones (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--repeats",
      defaultValue = "1",
      description = "Runs per case; the median is reported (default ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--heap",
      defaultValue = "512m",
      description = "The trainer's fixed Java heap, -Xms = -Xmx (default ${DEFAULT-VALUE}).")
  String heap;

  /** How glibc's malloc treats the children's freed tensors. */
  enum Allocator {
    /** glibc as the trainer runs in production: freed memory is kept for reuse. */
    cached,
    /**
     * Every block of 64 KiB or more mapped on allocation and unmapped on free: resident memory
     * follows the live tensors.
     */
    unmapped,
    both
  }

  @Option(
      names = "--allocator",
      defaultValue = "both",
      description =
          "cached (glibc's default, as in production), unmapped"
              + " (MALLOC_MMAP_THRESHOLD_=65536: resident memory follows the live tensors) or both (default ${DEFAULT-VALUE}).")
  Allocator allocator;

  @Option(
      names = "--work-dir",
      description =
          "Where the manifests and the trainer's outputs go (default: a temporary folder, deleted).")
  Path workDir;

  @Option(
      names = "--trainer",
      hidden = true,
      description = "The mpj-trainer launcher (default: bin/mpj-trainer next to bin/mpj).")
  Path trainer;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    List<Model> chosen = new ArrayList<>();
    for (String name : models) {
      Model model =
          MemoryValidation.MODELS.stream()
              .filter(m -> m.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new InvalidJobException(
                          "--models", "unknown model " + name + " (mlp, cnn, transformer)"));
      chosen.add(microBatches == null ? model : model.withMicroBatches(microBatches));
    }
    if (microBatches != null && microBatches.stream().anyMatch(b -> b < 1)) {
      throw new InvalidJobException("--micro-batches", "must be 1 or more");
    }
    List<Precision> chosenPrecisions = new ArrayList<>();
    for (String p : precisions) {
      chosenPrecisions.add(
          Arrays.stream(Precision.values())
              .filter(v -> v.value().equals(p))
              .findFirst()
              .orElseThrow(
                  () ->
                      new InvalidJobException(
                          "--precisions", "unknown precision " + p + " (fp32, fp16-mixed)")));
    }
    if (steps < 2) {
      throw new InvalidJobException(
          "--steps", "must be 2 or more (the first step is set-up; the later ones are measured)");
    }
    if (repeats < 1) {
      throw new InvalidJobException("--repeats", "must be 1 or more");
    }
    Path launcher = trainer != null ? trainer : LocalCommand.defaultTrainerLauncher();
    if (!Files.isExecutable(launcher)) {
      throw new InvalidJobException(
          "--trainer", "no executable mpj-trainer launcher at " + launcher);
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir =
        workDir != null
            ? Files.createDirectories(workDir)
            : Files.createTempDirectory("mpj-bench-memory");
    try {
      List<Allocator> modes =
          allocator == Allocator.both
              ? List.of(Allocator.cached, Allocator.unmapped)
              : List.of(allocator);
      StringBuilder report = new StringBuilder();
      for (Allocator mode : modes) {
        Map<Precision, Long> noise = new EnumMap<>(Precision.class);
        Map<Precision, Measured> baseline = new EnumMap<>(Precision.class);
        for (Precision p : chosenPrecisions) {
          Measured m =
              measure(launcher, dir, new Case(MemoryValidation.BASELINE, p, 1, steps), mode, out);
          baseline.put(p, m);
          noise.put(p, m.later());
        }
        List<Result> results = new ArrayList<>();
        for (Case c : MemoryValidation.cases(chosen, chosenPrecisions, steps)) {
          Measured m = measure(launcher, dir, c, mode, out);
          results.add(new Result(c, c.prediction(), m.later(), m.first(), m.code()));
        }
        report.append(
            String.format(
                "%n== allocator %s%s ==%n",
                mode,
                mode == Allocator.cached
                    ? " (glibc's default, as in production)"
                    : " (MALLOC_MMAP_THRESHOLD_=65536: resident memory follows the live tensors)"));
        report.append(
            String.format(
                "Peak resident memory of steps 2..%d above the process right after step 1, less"
                    + " the code they paged in (median of %d), read before each step's listeners (a"
                    + " checkpoint's snapshot is host memory), against MemoryModel's max(update temporaries, activations with backward's transient):"
                    + " the weights, master weights, optimizer state and gradients are resident by then;"
                    + " error = measured / predicted - 1.%n"
                    + "1st step: the peak of step 1 above the process right before it (model: the"
                    + " gradients + pred. step); of it code: what step 1 added to resident memory mapped"
                    + " from files (libtorch's code paged in as its operations first run).%n",
                steps, repeats));
        report.append(
            String.format(
                "Noise floor (mlp [8] at micro-batch 1, steps 2..%d): %s%n%n",
                steps,
                String.join(
                    ", ",
                    baseline.entrySet().stream()
                        .map(
                            e ->
                                e.getKey().value()
                                    + " "
                                    + Bytes.format(e.getValue().later())
                                    + " (1st step "
                                    + Bytes.format(e.getValue().first())
                                    + ", of it code "
                                    + Bytes.format(e.getValue().code())
                                    + ")")
                        .toList())));
        report.append(MemoryValidation.report(results, noise));
      }
      out.print(report);
      out.flush();
      return 0;
    } finally {
      if (workDir == null) {
        deleteRecursively(dir);
      }
    }
  }

  /**
   * One case's figures, each the median over the repeats: the peak of the later steps above the
   * process after the first, the first step's peak above the process before it, and what the first
   * step added to resident memory mapped from files.
   */
  record Measured(long later, long first, long code) {}

  private Measured measure(Path launcher, Path dir, Case c, Allocator mode, PrintWriter progress)
      throws IOException, InterruptedException {
    long[] measured = new long[repeats];
    long[] firsts = new long[repeats];
    long[] codes = new long[repeats];
    for (int i = 0; i < repeats; i++) {
      String name =
          c.model().name()
              + "-"
              + c.precision().value()
              + "-"
              + c.microBatch()
              + "-"
              + mode
              + "-"
              + i;
      Path manifest = dir.resolve(name + ".yaml");
      Files.writeString(manifest, c.manifest());
      Path output = dir.resolve(name);
      ProcessBuilder builder =
          new ProcessBuilder(
                  launcher.toString(),
                  "train",
                  "-f",
                  manifest.toString(),
                  "--output",
                  output.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve(name + ".log").toFile());
      // A fixed, pre-touched heap: what resident memory adds during the steps is native memory.
      builder
          .environment()
          .put(
              "MPJ_TRAINER_JAVA_OPTS",
              "-Xms"
                  + heap
                  + " -Xmx"
                  + heap
                  + " -XX:+AlwaysPreTouch"
                  + " -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1");
      if (mode == Allocator.unmapped) {
        builder.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
      } else {
        builder.environment().remove("MALLOC_MMAP_THRESHOLD_");
      }
      Process process = builder.start();
      if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new IOException(
            "the trainer failed on " + name + ": " + Files.readString(dir.resolve(name + ".log")));
      }
      JsonNode summary = JSON.readTree(output.resolve("summary.json").toFile());
      long before = summary.path("rssBeforeTrainingBytes").asLong(-1);
      long firstPeak = summary.path("peakRssFirstStepBytes").asLong(-1);
      long afterFirst = summary.path("rssAfterFirstStepBytes").asLong(-1);
      long laterPeak = summary.path("peakRssLaterStepsBytes").asLong(-1);
      if (before < 0 || firstPeak < 0 || afterFirst < 0 || laterPeak < 0) {
        throw new IOException(
            "the trainer's summary.json has no rssBeforeTrainingBytes, peakRssFirstStepBytes,"
                + " rssAfterFirstStepBytes and peakRssLaterStepsBytes (an older trainer, or not"
                + " Linux): "
                + output.resolve("summary.json"));
      }
      // Code the later steps paged in is host memory, as the first step's is (an FP16-mixed first
      // step that overflows skips the update, whose code then pages in during the second).
      long laterCode = Math.max(0, summary.path("fileRssAddedLaterStepsBytes").asLong(0));
      measured[i] = laterPeak - afterFirst - laterCode;
      firsts[i] = firstPeak - before;
      codes[i] = summary.path("fileRssAddedFirstStepBytes").asLong(-1);
      progress.printf(
          "%-8s %-11s %-10s micro-batch %5d: steps 2..%d %s above %s (less %s of code);"
              + " step 1 %s above %s%n",
          mode,
          c.model().name(),
          c.precision().value(),
          c.microBatch(),
          steps,
          Bytes.format(measured[i]),
          Bytes.format(afterFirst),
          Bytes.format(laterCode),
          Bytes.format(firsts[i]),
          Bytes.format(before));
      progress.flush();
    }
    return new Measured(median(measured), median(firsts), median(codes));
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
