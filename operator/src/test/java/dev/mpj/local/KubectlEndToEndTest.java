package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real kubectl against {@code mpj local --serve}, as a newcomer uses it: apply the quick-start,
 * watch it and its pods ({@code get -w}), see invalid patches and applies refused, get it with its
 * printer columns, suspend it (the gang stops with a checkpoint) and resume it (from that
 * checkpoint), follow a replica's log ({@code logs -f}), wait for Succeeded, describe it
 * (conditions and events), read a replica's log, delete it (its pods, service, config map, secret
 * and claim go too), and see an invalid job refused with the message of the CRD's rules. kubectl
 * comes from .ci/tools (bash .ci/install-tools) or the PATH; without it the test is skipped with a
 * message, except in CI where it fails.
 */
class KubectlEndToEndTest {
  private static final int STEPS = 6000;

  private static final Duration TIMEOUT = Duration.ofMinutes(6);

  record Result(int exitCode, String out, String err) {
    String both() {
      return out + err;
    }
  }

  @Test
  void kubectlDrivesTheLocalCluster(@TempDir Path dir) throws Exception {
    Path kubectl = kubectl();
    Path kubeconfig = dir.resolve("kubeconfig");
    Path workDir = dir.resolve("work");
    Path log = dir.resolve("mpj-local.log");
    List<Process> watches = new ArrayList<>();
    Process local =
        LocalProcess.start(
            log,
            "--serve",
            "--kubeconfig",
            kubeconfig.toString(),
            "--work-dir",
            workDir.toString());
    try {
      String exportLine =
          awaitLine(log, Pattern.compile("^export KUBECONFIG=(.+)$", Pattern.MULTILINE), local);
      assertThat(Path.of(exportLine)).isEqualTo(kubeconfig.toAbsolutePath());
      assertThat(Files.readString(kubeconfig)).contains("current-context: mpj-local");
      Kubectl k = new Kubectl(kubectl, kubeconfig, dir.resolve("cache"));

      // Discovery: the short name, the built-in kinds, in the aggregated form (no group-version
      // lists fetched one by one, as kubectl does when it falls back to the legacy form).
      Result resources = k.ok("api-resources", "-v=6");
      assertThat(resources.out())
          .containsPattern(
              "mixedprecisionjobs\\s+mpj\\s+mpj.dev/v1alpha1\\s+true\\s+MixedPrecisionJob")
          .containsPattern("pods\\s+po\\s+v1\\s+true\\s+Pod");
      assertThat(resources.err()).contains("/apis?timeout").doesNotContain("/api/v1?timeout");
      assertThat(k.ok("explain", "mpj.spec.replicas").out()).contains("Fewest replicas");

      Path quickstart = LocalProcess.ROOT.resolve("docs/examples/quickstart.yaml");
      // Twenty times the quick-start's steps: on an idle machine its 300 steps end within about a
      // second, before a suspension can arrive.
      Path longer = dir.resolve("quickstart-longer.yaml");
      Files.writeString(
          longer, Files.readString(quickstart).replace("steps: 300", "steps: " + STEPS));
      assertThat(k.ok("apply", "-f", longer.toString()).out())
          .contains("mixedprecisionjob.mpj.dev/quickstart created");

      // Watches stream: the job's phase changes and the pods' deletions show as they happen.
      Path jobWatch = dir.resolve("get-mpj-w.txt");
      Path podWatch = dir.resolve("get-pods-w.txt");
      Process watchingJobs = k.start(jobWatch, "get", "mpj", "-w", "--output-watch-events");
      watches.add(watchingJobs);
      Process watchingPods =
          k.start(
              podWatch,
              "get",
              "pods",
              "-l",
              "app.kubernetes.io/instance=quickstart",
              "-w",
              "--output-watch-events");
      watches.add(watchingPods);

      // Updates are checked as creates are: a patch or an apply that breaks a rule is refused.
      Result badPatch =
          k.run(
              "patch",
              "mpj",
              "quickstart",
              "--type=merge",
              "-p",
              "{\"spec\":{\"replicas\":{\"min\":4}}}");
      assertThat(badPatch.exitCode()).isNotZero();
      assertThat(badPatch.err())
          .contains(
              "The MixedPrecisionJob \"quickstart\" is invalid: spec.replicas: Invalid value:"
                  + " \"object\": replicas.min must not exceed replicas.max");
      Result immutable =
          k.run(
              "patch",
              "mpj",
              "quickstart",
              "--type=json",
              "-p",
              "[{\"op\":\"replace\",\"path\":\"/spec/precision\",\"value\":\"fp32\"}]");
      assertThat(immutable.exitCode()).isNotZero();
      assertThat(immutable.err())
          .contains(
              "The MixedPrecisionJob \"quickstart\" is invalid: spec.precision: Invalid value:"
                  + " \"string\": precision is immutable");
      Result badApply =
          k.run(
              "apply",
              "-f",
              write(
                      dir,
                      "fewer.yaml",
                      Files.readString(longer)
                          .replace("replicas: {min: 2, max: 2}", "replicas: {min: 3, max: 2}"))
                  .toString());
      assertThat(badApply.exitCode()).isNotZero();
      assertThat(badApply.err()).contains("replicas.min must not exceed replicas.max");

      // Suspend as soon as the status shows training: the trainers write a checkpoint when they
      // are stopped, so the resume goes on from there. (Waiting for a later step lost the race on
      // a loaded machine, where the status lags the trainers and the job ended first.)
      k.until("step >= 1", () -> step(k) >= 1);
      k.ok(
          "patch",
          "mpj",
          "quickstart",
          "--type=merge",
          "-p",
          "{\"spec\":{\"runPolicy\":{\"suspend\":true}}}");
      k.ok("wait", "--for=jsonpath={.status.phase}=Suspended", "mpj/quickstart", "--timeout=120s");
      k.until("no pods running", () -> !k.ok("get", "pods").out().contains("Running"));
      String suspended = k.ok("get", "mpj", "quickstart").out();
      assertThat(suspended).containsPattern("quickstart\\s+Suspended\\s+fp16-mixed");
      k.until(
          "get -w to show the job Suspended and its pods deleted",
          () ->
              read(jobWatch).matches("(?s).*MODIFIED\\s+quickstart\\s+Suspended\\s+fp16-mixed.*")
                  && read(podWatch).matches("(?s).*DELETED\\s+quickstart-worker-1\\s.*"));
      assertThat(read(jobWatch).lines().findFirst().orElse("")).startsWith("EVENT");
      assertThat(read(jobWatch)).containsPattern("ADDED\\s+quickstart\\s");
      assertThat(watchingJobs.isAlive()).as("get -w keeps watching").isTrue();
      watchingJobs.destroy();
      watchingPods.destroy();
      k.ok(
          "patch",
          "mpj",
          "quickstart",
          "--type=merge",
          "-p",
          "{\"spec\":{\"runPolicy\":{\"suspend\":false}}}");

      // logs -f follows the resumed replica until it ends (tried again until its log exists).
      StringBuilder followed = new StringBuilder();
      k.until(
          "kubectl logs -f to follow the resumed replica to its end",
          () -> {
            Result r = k.run("logs", "-f", "quickstart-worker-0");
            followed.setLength(0);
            followed.append(r.out());
            return r.exitCode() == 0 && r.out().contains("done: " + STEPS + " steps");
          });
      assertThat(followed.toString()).contains("resuming from checkpoint");
      k.ok("wait", "--for=condition=Succeeded", "mpj/quickstart", "--timeout=300s");
      String table = k.ok("get", "mpj").out();
      assertThat(table.lines().findFirst().orElseThrow())
          .matches(
              "NAME\\s+PHASE\\s+PRECISION\\s+REPLICAS\\s+STEP\\s+LOSS\\s+LOSS SCALE\\s+RESTARTS\\s+AGE\\s*");
      assertThat(table)
          .containsPattern(
              "quickstart\\s+Succeeded\\s+fp16-mixed\\s+2\\s+"
                  + STEPS
                  + "\\s+[0-9.eE+-]+\\s+\\d+\\s+0\\s+\\S+");

      String describe = k.ok("describe", "mpj", "quickstart").out();
      assertThat(describe)
          .contains("Phase:", "Succeeded")
          .containsPattern("Type:\\s+Succeeded")
          .containsPattern("Normal\\s+Suspended\\s+.*suspended: .*stopping 2 pods")
          .containsPattern("Normal\\s+Started\\s+.*attempt 2 with 2 replicas");

      String pods = k.ok("get", "pods", "-l", "app.kubernetes.io/instance=quickstart").out();
      assertThat(pods).containsPattern("quickstart-worker-0\\s+0/1\\s+Completed");
      String replicaLog = k.ok("logs", "quickstart-worker-0").out();
      assertThat(replicaLog)
          .containsPattern("resuming from checkpoint step-\\d+ \\(step (\\d+)\\)");
      assertThat(replicaLog).contains("done: " + STEPS + " steps");
      Matcher resumed = Pattern.compile("\\(step (\\d+)\\)").matcher(replicaLog);
      assertThat(resumed.find()).isTrue();
      assertThat(Long.parseLong(resumed.group(1))).isBetween(1L, STEPS - 1L);

      String owned = "pods,services,configmaps,secrets,persistentvolumeclaims";
      assertThat(k.ok("get", owned, "-o", "name").out())
          .contains("pod/quickstart-worker-0", "service/", "configmap/", "secret/");
      k.ok("delete", "mpj", "quickstart");
      assertThat(k.ok("get", "mpj").both()).contains("No resources found");
      assertThat(k.ok("get", owned, "-o", "name").out()).isBlank();

      String invalid =
          Files.readString(quickstart)
              .replace("name: quickstart", "name: invalid")
              .replace("replicas: {min: 2, max: 2}", "replicas: {min: 4, max: 2}");
      Path invalidFile = dir.resolve("invalid.yaml");
      Files.writeString(invalidFile, invalid);
      Result refused = k.run("apply", "-f", invalidFile.toString());
      assertThat(refused.exitCode()).isNotZero();
      assertThat(refused.err())
          .contains(
              "The MixedPrecisionJob \"invalid\" is invalid: spec.replicas: Invalid value:"
                  + " \"object\": replicas.min must not exceed replicas.max");
      Result unknownField =
          k.run(
              "apply",
              "-f",
              write(
                      dir,
                      "unknown.yaml",
                      invalid.replace(
                          "replicas: {min: 4, max: 2}", "replicas: {min: 2, max: 2, most: 3}"))
                  .toString());
      assertThat(unknownField.exitCode()).isNotZero();
      assertThat(unknownField.err()).contains("unknown field \"spec.replicas.most\"");
      assertThat(k.ok("get", "mpj").both()).contains("No resources found");
    } finally {
      watches.forEach(Process::destroy);
      local.destroy();
      if (!local.waitFor(60, TimeUnit.SECONDS)) {
        local.destroyForcibly();
      }
    }
  }

  private static Path write(Path dir, String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long step(Kubectl k) {
    String s =
        k.ok("get", "mpj", "quickstart", "-o", "jsonpath={.status.progress.step}").out().trim();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  /** kubectl from .ci/tools or the PATH; skipped with a message when absent, except in CI. */
  private static Path kubectl() {
    Path ci = LocalProcess.ROOT.resolve(".ci/tools/kubectl");
    Optional<Path> found =
        Files.isExecutable(ci)
            ? Optional.of(ci)
            : Arrays.stream(
                    System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .filter(p -> !p.isEmpty())
                .map(p -> Path.of(p).resolve("kubectl"))
                .filter(Files::isExecutable)
                .findFirst();
    if (found.isEmpty() && System.getenv("CI") != null) {
      fail("kubectl not found in .ci/tools or on the PATH in CI: .ci/install-tools installs it");
    }
    assumeTrue(
        found.isPresent(),
        "kubectl not found in .ci/tools or on the PATH: test skipped (bash .ci/install-tools"
            + " installs it)");
    LocalProcess.trainerLauncher();
    return found.get();
  }

  /** The first group of the first line matching, once mpj local printed it. */
  private static String awaitLine(Path log, Pattern pattern, Process local) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline)) {
      String text = Files.exists(log) ? Files.readString(log) : "";
      Matcher m = pattern.matcher(text);
      if (m.find()) {
        return m.group(1).trim();
      }
      if (!local.isAlive()) {
        fail("mpj local --serve exited with " + local.exitValue() + ":\n" + text);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("mpj local --serve printed no export line:\n" + Files.readString(log));
  }

  /** kubectl with the local cluster's kubeconfig and a discovery cache of its own. */
  private record Kubectl(Path binary, Path kubeconfig, Path cache) {
    private List<String> command(String... args) {
      List<String> command =
          new ArrayList<>(
              List.of(
                  binary.toString(),
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--cache-dir",
                  cache.toString()));
      command.addAll(List.of(args));
      return command;
    }

    /** A kubectl that keeps running (a watch), its output and errors going to {@code output}. */
    Process start(Path output, String... args) throws IOException {
      Process p =
          new ProcessBuilder(command(args))
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      p.getOutputStream().close();
      return p;
    }

    Result run(String... args) {
      List<String> command = command(args);
      try {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = read(p.getInputStream());
        CompletableFuture<String> err = read(p.getErrorStream());
        if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.exitValue(), out.join(), err.join());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    Result ok(String... args) {
      Result r = run(args);
      assertThat(r.exitCode())
          .as("kubectl %s%nstdout: %s%nstderr: %s", String.join(" ", args), r.out(), r.err())
          .isZero();
      return r;
    }

    void until(String what, java.util.function.BooleanSupplier condition)
        throws InterruptedException {
      Instant deadline = Instant.now().plus(TIMEOUT);
      while (!condition.getAsBoolean()) {
        if (Instant.now().isAfter(deadline)) {
          throw new AssertionError("timed out waiting for " + what);
        }
        Thread.sleep(300);
      }
    }

    private static CompletableFuture<String> read(InputStream stream) {
      return CompletableFuture.supplyAsync(
          () -> {
            try (stream) {
              ByteArrayOutputStream buffer = new ByteArrayOutputStream();
              stream.transferTo(buffer);
              return buffer.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
  }
}
