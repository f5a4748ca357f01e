package dev.mpj.operator.resources;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.KubernetesNames.Rule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** Names of what the operator creates for a job, and where the trainer finds things in its pod. */
public final class JobNames {
  public static final String CONTAINER = "trainer";
  public static final String CONFIG_KEY = "config.yaml";
  public static final String TOKEN_KEY = "token";

  public static final String CONFIG_DIR = TrainerContract.CONFIG_DIR;
  public static final String CONFIG_PATH = CONFIG_DIR + "/" + CONFIG_KEY;
  public static final String OUTPUT_DIR = TrainerContract.OUTPUT_DIR;

  public static final String CHECKPOINT_DIR = TrainerContract.CHECKPOINT_DIR;
  public static final String TMP_DIR = TrainerContract.TMP_DIR;

  private JobNames() {}

  /**
   * Replica {@code rank}'s pod; also its hostname, so a DNS-1123 label. The FP32 reference gang's
   * (schedule beside) end in {@code -reference}, which no job's own pod name does.
   */
  public static String pod(MixedPrecisionJob job, int rank) {
    return ReferenceGang.isView(job)
        ? child(job.getMetadata().getName(), "-worker-" + rank + "-reference", Rule.DNS1123_LABEL)
        : pod(job.getMetadata().getName(), rank);
  }

  public static String pod(String job, int rank) {
    return child(job, "-worker-" + rank, Rule.DNS1123_LABEL);
  }

  /** The headless Service the gang meets through; the pods' subdomain. */
  public static String service(MixedPrecisionJob job) {
    return child(job.getMetadata().getName(), "-workers", Rule.DNS1035_LABEL);
  }

  /** The trainer config; the FP32 reference gang's (schedule beside) is its own. */
  public static String configMap(MixedPrecisionJob job) {
    return child(
        job.getMetadata().getName(),
        ReferenceGang.isView(job) ? "-config-reference" : "-config",
        Rule.DNS1123_SUBDOMAIN);
  }

  public static String secret(MixedPrecisionJob job) {
    return child(job.getMetadata().getName(), "-token", Rule.DNS1123_SUBDOMAIN);
  }

  /** The claim the operator creates when spec.checkpoint.volume.size is set. */
  public static String checkpointClaim(MixedPrecisionJob job) {
    return child(job.getMetadata().getName(), "-checkpoints", Rule.DNS1123_SUBDOMAIN);
  }

  /** An Event about the job; {@code unique} tells Events apart. */
  public static String event(MixedPrecisionJob job, String unique) {
    return child(job.getMetadata().getName(), "." + unique, Rule.DNS1123_SUBDOMAIN);
  }

  /** The value of a label that names the job (its full name is in {@link Labels#JOB_NAME}). */
  public static String labelValue(MixedPrecisionJob job) {
    return child(job.getMetadata().getName(), "", Rule.LABEL_VALUE);
  }

  /** DNS name of rank 0 through the headless service: {@code <job>-worker-0.<service>.<ns>.svc}. */
  public static String coordinatorAddress(MixedPrecisionJob job) {
    return pod(job, 0) + "." + service(job) + "." + job.getMetadata().getNamespace() + ".svc";
  }

  /**
   * The name of something a job owns: {@code job + suffix} when that is valid under {@code rule},
   * else the job's name made valid (dots to dashes for a label, {@code mpj-} before a leading digit
   * for a DNS-1035 label), cut to fit, then an 8-digit hash of the full job name, then the suffix.
   * The hash keeps two jobs apart whose names differ only where the name was cut or changed. Every
   * child, and whatever comes later (a Kueue Workload, PodGroups), gets its name here.
   */
  public static String child(String job, String suffix, Rule rule) {
    String plain = job + suffix;
    if (rule.check(plain).isEmpty()) {
      return plain;
    }
    String stem = job.toLowerCase(Locale.ROOT);
    if (rule != Rule.DNS1123_SUBDOMAIN && rule != Rule.LABEL_VALUE) {
      stem = stem.replace('.', '-');
    }
    if (rule == Rule.DNS1035_LABEL && !Character.isLetter(stem.charAt(0))) {
      stem = "mpj-" + stem;
    }
    String hash = "-" + hash(job);
    int room = Math.max(0, rule.maxLength - suffix.length() - hash.length());
    stem = stem.substring(0, Math.min(room, stem.length()));
    // The cut must not leave a dash or dot before the hash's dash.
    while (!stem.isEmpty() && !Character.isLetterOrDigit(stem.charAt(stem.length() - 1))) {
      stem = stem.substring(0, stem.length() - 1);
    }
    return stem.isEmpty() ? hash.substring(1) + suffix : stem + hash + suffix;
  }

  /** The first 8 hex digits of the SHA-256 of the job's name: stable across operator restarts. */
  static String hash(String job) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(job.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
