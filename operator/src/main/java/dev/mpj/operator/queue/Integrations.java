package dev.mpj.operator.queue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queueing integrations this operator uses, decided once at start-up from the chart's switches
 * ({@code integrations.*}) and API discovery (which needs no extra permission).
 *
 * @param kueue Kueue serves {@code kueue.x-k8s.io/v1beta2} Workloads: jobs with the queue label
 *     wait for admission
 * @param volcano Volcano's {@code scheduling.volcano.sh/v1beta1} PodGroups
 * @param coscheduling scheduler-plugins' {@code scheduling.x-k8s.io/v1alpha1} PodGroups
 */
public record Integrations(boolean kueue, boolean volcano, boolean coscheduling) {
  private static final Logger LOG = LoggerFactory.getLogger(Integrations.class);

  public static final Integrations NONE = new Integrations(false, false, false);

  /** How the chart switches one integration. */
  public enum Mode {
    /** On when the cluster serves its API at start-up (the default). */
    AUTO,
    /** On; the operator refuses to start when the cluster does not serve its API. */
    ENABLED,
    /** Off, even when the cluster serves its API. */
    DISABLED;

    /** {@code auto}, {@code enabled} or {@code disabled}; {@code setting} names it in errors. */
    public static Mode parse(String setting, String value) {
      try {
        return Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException(
            setting + " must be auto, enabled or disabled (got " + value + ")");
      }
    }
  }

  /** The chart's {@code integrations} values. */
  public record Switches(Mode kueue, Mode volcano, Mode coscheduling) {
    public static final Switches AUTO = new Switches(Mode.AUTO, Mode.AUTO, Mode.AUTO);
  }

  /** An integration switched to enabled whose API the cluster does not serve. */
  public static final class Unavailable extends IllegalStateException {
    Unavailable(String message) {
      super(message);
    }
  }

  /** Looks with every switch on auto. */
  public static Integrations detect(KubernetesClient client) {
    return detect(client, Switches.AUTO);
  }

  /**
   * Decides each integration from its switch and, unless it is disabled, discovery; says in one log
   * line which are active.
   *
   * @throws Unavailable when an enabled integration's API is not served
   */
  public static Integrations detect(KubernetesClient client, Switches switches) {
    Integrations found =
        new Integrations(
            decide(
                "integrations.kueue",
                switches.kueue(),
                Workloads.API_VERSION + " Workloads (Kueue v0.15 or later)",
                () -> serves(client, Workloads.API_VERSION, "Workload")),
            decide(
                "integrations.volcano",
                switches.volcano(),
                "scheduling.volcano.sh/v1beta1 PodGroups (Volcano)",
                () -> serves(client, "scheduling.volcano.sh/v1beta1", "PodGroup")),
            decide(
                "integrations.coscheduling",
                switches.coscheduling(),
                "scheduling.x-k8s.io/v1alpha1 PodGroups (scheduler-plugins coscheduling)",
                () -> serves(client, "scheduling.x-k8s.io/v1alpha1", "PodGroup")));
    LOG.info(found.describe(switches));
    return found;
  }

  /** The start-up log line: which integrations are active, and why the others are not. */
  public String describe(Switches switches) {
    return "integrations: Kueue "
        + state(
            kueue,
            switches.kueue(),
            "integrations.kueue",
            "active ("
                + Workloads.API_VERSION
                + " Workloads; jobs with the queue label wait for admission)",
            "not found (no "
                + Workloads.API_VERSION
                + " Workloads served; the queue label is only passed to the pods)")
        + "; Volcano PodGroups "
        + state(volcano, switches.volcano(), "integrations.volcano", "active", "not found")
        + "; coscheduling PodGroups "
        + state(
            coscheduling,
            switches.coscheduling(),
            "integrations.coscheduling",
            "active",
            "not found");
  }

  private static String state(
      boolean on, Mode mode, String setting, String active, String notFound) {
    if (mode == Mode.DISABLED) {
      return "switched off (" + setting + ": disabled)";
    }
    return on ? active : notFound;
  }

  private static boolean decide(String setting, Mode mode, String api, BooleanSupplier served) {
    if (mode == Mode.DISABLED) {
      return false;
    }
    boolean found = served.getAsBoolean();
    if (!found && mode == Mode.ENABLED) {
      throw new Unavailable(
          setting
              + " is enabled, but the cluster serves no "
              + api
              + ": install it, or set "
              + setting
              + " to auto");
    }
    return found;
  }

  private static boolean serves(KubernetesClient client, String apiVersion, String kind) {
    try {
      return client.supports(apiVersion, kind);
    } catch (KubernetesClientException e) {
      LOG.warn("cannot discover {} ({}); treating it as absent", apiVersion, e.getMessage());
      return false;
    }
  }
}
