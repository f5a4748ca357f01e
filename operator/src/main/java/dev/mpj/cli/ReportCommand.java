package dev.mpj.cli;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ReportDataStatus;
import dev.mpj.cli.report.ReportHtml;
import dev.mpj.cli.report.ReportModel;
import dev.mpj.cli.report.RunData;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mpj report}: one self-contained HTML file with charts (JFreeChart) of an FP32 reference
 * against a mixed-precision run, from an mpj local work dir, from the report data of a cluster job
 * (copied from its checkpoint volume), or from two trainer output folders.
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "One self-contained HTML file with charts: training loss of the FP32 reference against the"
          + " mixed run, validation points, loss scale and skipped steps, memory per replica and"
          + " GPUs saved, and the reference parity verdict.",
      "  mpj report --work-dir DIR               an mpj local work dir",
      "  mpj report NAME --data DIR [-n NS]      a cluster job; DIR holds the report folders"
          + " copied from its checkpoint volume (status.report says which)",
      "  mpj report --reference DIR --candidate DIR   two mpj-trainer output folders"
    })
final class ReportCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "NAME",
      description = "A job in the cluster (with --data).")
  String name;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "An mpj local work dir.")
  Path workDir;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "With NAME: the job's report data, DIR/report and (with reference parity)"
              + " DIR/reference-fp32/report.")
  Path data;

  @Option(names = "--reference", paramLabel = "DIR", description = "The FP32 run's output folder.")
  Path reference;

  @Option(
      names = "--candidate",
      paramLabel = "DIR",
      description = "The mixed-precision run's output folder.")
  Path candidate;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "The HTML file (default: report.html in the work dir, else mpj-report.html).")
  Path output;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NAMESPACE",
      description = "With NAME: the job's namespace.")
  String namespace;

  @Option(names = "--context", paramLabel = "NAME", description = "The kubeconfig context.")
  String context;

  @Option(names = "--kubeconfig", paramLabel = "FILE", description = "The kubeconfig file.")
  Path kubeconfig;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      ReportModel model;
      Path file;
      if (workDir != null) {
        model = fromWorkDir(workDir);
        file = output != null ? output : workDir.resolve("report.html");
      } else if (reference != null || candidate != null) {
        if (reference == null || candidate == null) {
          throw new IllegalArgumentException("--reference and --candidate go together");
        }
        model =
            new ReportModel(
                "Precision report: " + candidate.getFileName() + " against " + reference,
                null,
                RunData.read(reference, "fp32 reference"),
                RunData.read(candidate, "mixed"));
        model = labelled(model);
        file = output != null ? output : Path.of("mpj-report.html");
      } else if (name != null) {
        MixedPrecisionJob job = fromCluster();
        if (job == null) {
          err.println("report: no MixedPrecisionJob " + name);
          err.flush();
          return 1;
        }
        if (data == null) {
          ReportDataStatus r = job.getStatus() == null ? null : job.getStatus().report;
          err.println(
              r == null
                  ? "report: "
                      + name
                      + " has no report data (it needs spec.checkpoint.volume: the data is kept"
                      + " beside the checkpoints)"
                  : "report: the data is on claim "
                      + r.claimName
                      + " at "
                      + r.path
                      + (r.referencePath == null ? "" : " and " + r.referencePath)
                      + "; "
                      + r.command);
          err.flush();
          return 1;
        }
        model = fromData(job, data);
        file = output != null ? output : Path.of(name + "-report.html");
      } else {
        throw new IllegalArgumentException(
            "say where the runs are: --work-dir DIR, NAME --data DIR, or --reference DIR"
                + " --candidate DIR");
      }
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path temporary = parent.resolve("." + file.getFileName() + ".tmp");
      Files.writeString(temporary, ReportHtml.render(model));
      Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      out.println("report: wrote " + file);
      out.flush();
      return 0;
    } catch (IllegalArgumentException | UncheckedIOException e) {
      err.println("report: " + e.getMessage());
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    } catch (IOException e) {
      err.println("report: cannot write " + output + ": " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  /** An mpj local work dir: job.yaml and the checkpoint volume under volumes/. */
  static ReportModel fromWorkDir(Path dir) throws IOException {
    Path jobFile = dir.resolve("job.yaml");
    if (!Files.isRegularFile(jobFile)) {
      throw new IllegalArgumentException(
          "--work-dir: " + dir + " holds no job.yaml: not an mpj local work dir");
    }
    MixedPrecisionJob job = JobFiles.parse(Files.readString(jobFile));
    ReportDataStatus r = job.getStatus() == null ? null : job.getStatus().report;
    if (r == null) {
      throw new IllegalArgumentException(
          "--work-dir: the job has no report data (it needs spec.checkpoint.volume)");
    }
    Path volume =
        dir.resolve("volumes").resolve(job.getMetadata().getNamespace() + "-" + r.claimName);
    return fromData(job, volume);
  }

  /** The report folders of a job's checkpoint volume (or a copy of them) under {@code dir}. */
  static ReportModel fromData(MixedPrecisionJob job, Path dir) {
    Path jobRun = dir.resolve(ReportDataStatus.JOB_PATH);
    Path referenceRun = dir.resolve(ReportDataStatus.REFERENCE_PATH);
    RunData cand = Files.isDirectory(jobRun) ? RunData.read(jobRun, "job") : null;
    RunData ref =
        Files.isDirectory(referenceRun) ? RunData.read(referenceRun, "fp32 reference") : null;
    if (cand == null && ref == null) {
      throw new IllegalArgumentException(
          dir
              + " holds neither "
              + jobRun.getFileName()
              + "/ nor "
              + ReportDataStatus.REFERENCE_PATH);
    }
    return labelled(
        new ReportModel("Precision report: " + job.getMetadata().getName(), job, ref, cand));
  }

  /** The job's run labelled with its precision. */
  private static ReportModel labelled(ReportModel m) {
    RunData c = m.candidate();
    if (c == null) {
      return m;
    }
    String label = c.precision() == null ? "job" : c.precision();
    RunData named =
        new RunData(
            label,
            c.precision(),
            c.loss(),
            c.lossScale(),
            c.skipped(),
            c.summary(),
            c.referenceParity());
    return new ReportModel(m.title(), m.job(), m.reference(), named);
  }

  private MixedPrecisionJob fromCluster() {
    try (KubernetesClient client = KubeClients.connect(kubeconfig, context)) {
      String ns =
          namespace != null
              ? namespace
              : client.getNamespace() != null ? client.getNamespace() : "default";
      return client.resources(MixedPrecisionJob.class).inNamespace(ns).withName(name).get();
    } catch (KubernetesClientException e) {
      throw new IllegalArgumentException("cannot read the cluster: " + e.getMessage());
    }
  }
}
