package dev.mpj.operator.planning;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.Crd;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.api.validation.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a set of manifests holds for a fleet plan: the valid jobs, the invalid ones with every
 * violation, and the documents that are not jobs. A pure function of the manifests' text; reading
 * files and folders is the caller's.
 */
public record FleetManifests(
    List<JobDocument> jobs, List<InvalidDocument> invalid, List<SkippedDocument> skipped) {

  /** A valid job and where it came from ({@code file} or {@code file, document N}). */
  public record JobDocument(String source, MixedPrecisionJob job) {}

  /** A MixedPrecisionJob that cannot run as written, with every violation and its field. */
  public record InvalidDocument(String source, String name, List<Violation> violations) {}

  /** A document that is not a MixedPrecisionJob (or is empty), and why it was skipped. */
  public record SkippedDocument(String source, String note) {}

  /** A line of three dashes (a comment may follow) separates the documents of a YAML stream. */
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---[ \\t]*(#.*)?$");

  public FleetManifests {
    jobs = List.copyOf(jobs);
    invalid = List.copyOf(invalid);
    skipped = List.copyOf(skipped);
  }

  public static FleetManifests none() {
    return new FleetManifests(List.of(), List.of(), List.of());
  }

  /** Both sets, this one's first. */
  public FleetManifests plus(FleetManifests other) {
    List<JobDocument> j = new ArrayList<>(jobs);
    j.addAll(other.jobs);
    List<InvalidDocument> i = new ArrayList<>(invalid);
    i.addAll(other.invalid);
    List<SkippedDocument> s = new ArrayList<>(skipped);
    s.addAll(other.skipped);
    return new FleetManifests(j, i, s);
  }

  /**
   * The documents of one YAML stream (a file, or standard input) named {@code source}. Documents
   * that hold only comments are left out silently.
   */
  public static FleetManifests of(String source, String text) {
    String[] documents = DOCUMENT_SEPARATOR.split(text, -1);
    List<String> nonEmpty = new ArrayList<>();
    for (String d : documents) {
      if (!isBlank(d)) {
        nonEmpty.add(d);
      }
    }
    List<JobDocument> jobs = new ArrayList<>();
    List<InvalidDocument> invalid = new ArrayList<>();
    List<SkippedDocument> skipped = new ArrayList<>();
    for (int i = 0; i < nonEmpty.size(); i++) {
      String where = nonEmpty.size() == 1 ? source : source + ", document " + (i + 1);
      classify(where, nonEmpty.get(i), jobs, invalid, skipped);
    }
    if (nonEmpty.isEmpty()) {
      skipped.add(new SkippedDocument(source, "holds no YAML document"));
    }
    return new FleetManifests(jobs, invalid, skipped);
  }

  private static void classify(
      String source,
      String document,
      List<JobDocument> jobs,
      List<InvalidDocument> invalid,
      List<SkippedDocument> skipped) {
    JsonNode tree;
    try {
      tree = JobFiles.yamlMapper().readTree(document);
    } catch (JsonProcessingException e) {
      skipped.add(new SkippedDocument(source, "not valid YAML: " + e.getOriginalMessage()));
      return;
    }
    if (tree == null || !tree.isObject()) {
      skipped.add(new SkippedDocument(source, "not a Kubernetes object"));
      return;
    }
    String kind = tree.path("kind").asText("");
    String apiVersion = tree.path("apiVersion").asText("");
    String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    if (!Crd.KIND.equals(kind) && !Crd.GROUP.equals(group)) {
      skipped.add(
          new SkippedDocument(
              source,
              "a "
                  + (kind.isEmpty() ? "document without a kind" : kind)
                  + (apiVersion.isEmpty() ? "" : " (" + apiVersion + ")")
                  + ", not a "
                  + Crd.KIND));
      return;
    }
    String name = tree.path("metadata").path("name").asText(null);
    MixedPrecisionJob job;
    try {
      job = JobFiles.parse(document);
    } catch (InvalidJobException e) {
      invalid.add(new InvalidDocument(source, name, e.violations()));
      return;
    }
    List<Violation> violations = SpecValidator.validate(job);
    if (!violations.isEmpty()) {
      invalid.add(new InvalidDocument(source, name, violations));
      return;
    }
    jobs.add(new JobDocument(source, job));
  }

  private static boolean isBlank(String document) {
    return document.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#"));
  }
}
