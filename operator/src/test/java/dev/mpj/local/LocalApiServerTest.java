package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local API server answers what kubectl asks, over HTTP as kubectl asks it: discovery
 * (aggregated too), tables with the CRD's printer columns, streamed watches, field selectors, pod
 * logs, admission of creates and updates by the CRD's schema and rules, and deletion of owned
 * objects. No kubectl needed: {@link KubectlEndToEndTest} runs the real one.
 */
class LocalApiServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JOBS = "/apis/mpj.dev/v1alpha1/namespaces/default/mixedprecisionjobs";
  private static final String TABLE =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

  @TempDir Path workDir;
  private LocalCluster cluster;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    cluster = LocalCluster.start(2, new Quantity("16Gi"), workDir.resolve("pods"));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void discoveryNamesTheJobsShortNameAndTheBuiltInKinds() throws Exception {
    JsonNode jobs = get("/apis/mpj.dev/v1alpha1", "application/json").json();
    JsonNode resource = jobs.at("/resources/0");
    assertThat(resource.path("name").asText()).isEqualTo("mixedprecisionjobs");
    assertThat(resource.path("shortNames").toString()).isEqualTo("[\"mpj\"]");
    assertThat(resource.path("namespaced").asBoolean()).isTrue();
    List<String> core = new ArrayList<>();
    get("/api/v1", "application/json")
        .json()
        .path("resources")
        .forEach(r -> core.add(r.path("name").asText()));
    assertThat(core)
        .contains(
            "pods",
            "pods/log",
            "events",
            "services",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "nodes");
    assertThat(get("/apis", "application/json").json().toString())
        .contains("\"groupVersion\":\"mpj.dev/v1alpha1\"");
    assertThat(get("/version", "application/json").json().path("major").asText()).isEqualTo("1");
  }

  @Test
  void aTableHasTheCrdsPrinterColumnsEvaluatedOnTheJob() throws Exception {
    assertThat(post(JOBS, job("quickstart", "", "")).status()).isEqualTo(201);
    JsonNode table = get(JOBS, TABLE).json();
    assertThat(table.path("kind").asText()).isEqualTo("Table");
    List<String> columns = new ArrayList<>();
    table.path("columnDefinitions").forEach(c -> columns.add(c.path("name").asText()));
    assertThat(columns)
        .containsExactly(
            "Name",
            "Phase",
            "Precision",
            "Replicas",
            "Step",
            "Loss",
            "Loss Scale",
            "Restarts",
            "Age");
    JsonNode cells = table.at("/rows/0/cells");
    assertThat(cells.get(0).asText()).isEqualTo("quickstart");
    assertThat(cells.get(1).isNull()).as("no status yet: no phase").isTrue();
    assertThat(cells.get(2).asText()).isEqualTo("fp16-mixed");
    assertThat(cells.get(8).asText()).matches("\\d+s");
    assertThat(table.at("/rows/0/object/metadata/name").asText()).isEqualTo("quickstart");
  }

  @Test
  void aJobTheCrdRefusesIsRefusedWithTheApiServersMessage() throws Exception {
    Response rule =
        post(JOBS, job("bad", "replicas: {min: 2, max: 2}", "replicas: {min: 4, max: 2}"));
    assertThat(rule.status()).isEqualTo(422);
    assertThat(rule.json().path("message").asText())
        .isEqualTo(
            "MixedPrecisionJob.mpj.dev \"bad\" is invalid: spec.replicas: Invalid value: \"object\":"
                + " replicas.min must not exceed replicas.max");
    Response bound = post(JOBS, job("bad", "steps: 300", "steps: 0"));
    assertThat(bound.status()).isEqualTo(422);
    assertThat(bound.json().path("message").asText())
        .endsWith(
            "spec.training.steps: Invalid value: 0: spec.training.steps in body should be greater"
                + " than or equal to 1");
    Response unknown =
        post(JOBS, job("bad", "replicas: {min: 2, max: 2}", "replicas: {min: 2, max: 2, most: 3}"));
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().path("message").asText())
        .endsWith("strict decoding error: unknown field \"spec.replicas.most\"");
    assertThat(get(JOBS + "/bad", "application/json").status()).isEqualTo(404);
  }

  @Test
  void deletingAJobDeletesWhatItOwnsAndNothingElse() throws Exception {
    Response created = post(JOBS, job("owner", "", ""));
    String uid = created.json().at("/metadata/uid").asText();
    var client = cluster.client();
    client
        .configMaps()
        .inNamespace("default")
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("owned")
                .addNewOwnerReference()
                .withApiVersion("mpj.dev/v1alpha1")
                .withKind("MixedPrecisionJob")
                .withName("owner")
                .withUid(uid)
                .endOwnerReference()
                .endMetadata()
                .build())
        .create();
    client
        .configMaps()
        .inNamespace("default")
        .resource(
            new ConfigMapBuilder().withNewMetadata().withName("unowned").endMetadata().build())
        .create();
    assertThat(send(HttpRequest.newBuilder(uri(JOBS + "/owner")).DELETE()).status()).isEqualTo(200);
    assertThat(client.configMaps().inNamespace("default").withName("owned").get()).isNull();
    assertThat(client.configMaps().inNamespace("default").withName("unowned").get()).isNotNull();
  }

  @Test
  void fieldSelectorsAndStreamedWatchesWork() throws Exception {
    post(JOBS, job("one", "", ""));
    post(JOBS, job("two", "", ""));
    JsonNode list = get(JOBS + "?fieldSelector=metadata.name%3Dtwo", "application/json").json();
    assertThat(list.path("items")).hasSize(1);
    assertThat(list.at("/items/0/metadata/name").asText()).isEqualTo("two");
    assertThat(list.path("kind").asText()).isEqualTo("MixedPrecisionJobList");
    String rv = list.at("/metadata/resourceVersion").asText();

    // A watch list (kubectl 1.35): the objects ADDED, then the bookmark ending the initial events.
    try (Watch initial =
        watch(
            JOBS
                + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
                + "&fieldSelector=metadata.name%3Dtwo",
            "application/json")) {
      JsonNode added = initial.next();
      assertThat(added.path("type").asText()).isEqualTo("ADDED");
      assertThat(added.at("/object/metadata/name").asText()).isEqualTo("two");
      JsonNode bookmark = initial.next();
      assertThat(bookmark.path("type").asText()).isEqualTo("BOOKMARK");
      assertThat(bookmark.at("/object/metadata/annotations/k8s.io~1initial-events-end").asText())
          .isEqualTo("true");
    }

    // From a version on: nothing until a change, then each change as it happens, deletions too;
    // the other job's changes are not this watch's.
    try (Watch two =
            watch(
                JOBS + "?watch=true&resourceVersion=" + rv + "&fieldSelector=metadata.name%3Dtwo",
                "application/json");
        Watch table = watch(JOBS + "?watch=true&resourceVersion=" + rv, TABLE)) {
      label("one", "first");
      label("two", "second");
      JsonNode modified = two.next();
      assertThat(modified.path("type").asText()).isEqualTo("MODIFIED");
      assertThat(modified.at("/object/metadata/name").asText()).isEqualTo("two");
      assertThat(modified.at("/object/metadata/labels/changed").asText()).isEqualTo("second");
      cluster
          .client()
          .genericKubernetesResources(context())
          .inNamespace("default")
          .withName("two")
          .delete();
      JsonNode deleted = two.next();
      assertThat(deleted.path("type").asText()).isEqualTo("DELETED");
      assertThat(deleted.at("/object/metadata/name").asText()).isEqualTo("two");

      // kubectl get -w: each event's object is a Table of the changed object's row.
      JsonNode row = table.next();
      assertThat(row.path("type").asText()).isEqualTo("MODIFIED");
      assertThat(row.at("/object/kind").asText()).isEqualTo("Table");
      assertThat(row.at("/object/columnDefinitions/0/name").asText()).isEqualTo("Name");
      assertThat(row.at("/object/rows/0/cells/0").asText()).isEqualTo("one");
      assertThat(table.next().at("/object/rows/0/cells/0").asText()).isEqualTo("two");
      assertThat(table.next().path("type").asText()).isEqualTo("DELETED");
    }

    // A watch ends at its timeoutSeconds.
    HttpResponse<String> ended =
        http.send(
            HttpRequest.newBuilder(
                    uri(JOBS + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=1"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ended.statusCode()).isEqualTo(200);
  }

  private void label(String name, String value) {
    cluster
        .client()
        .genericKubernetesResources(context())
        .inNamespace("default")
        .withName(name)
        .edit(
            r -> {
              r.getMetadata().setLabels(java.util.Map.of("changed", value));
              return r;
            });
  }

  /** A streamed answer (a watch, a followed log): its lines, blank ones (heartbeats) skipped. */
  private Watch watch(String path, String accept) throws Exception {
    HttpResponse<java.util.stream.Stream<String>> response =
        http.send(
            HttpRequest.newBuilder(uri(path)).header("Accept", accept).GET().build(),
            HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    return new Watch(response.body());
  }

  private static final class Watch implements AutoCloseable {
    private final java.util.stream.Stream<String> lines;
    private final java.util.Iterator<String> events;

    Watch(java.util.stream.Stream<String> lines) {
      this.lines = lines;
      this.events = lines.filter(l -> !l.isBlank()).iterator();
    }

    JsonNode next() throws Exception {
      return JSON.readTree(nextLine());
    }

    String nextLine() throws Exception {
      return java.util.concurrent.CompletableFuture.supplyAsync(events::next)
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    boolean ended() throws Exception {
      return !java.util.concurrent.CompletableFuture.supplyAsync(events::hasNext)
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      lines.close();
    }
  }

  @Test
  void anUpdateIsCheckedAsTheObjectItWouldStore() throws Exception {
    assertThat(post(JOBS, job("job", "", "")).status()).isEqualTo(201);
    String replicasRule =
        "MixedPrecisionJob.mpj.dev \"job\" is invalid: spec.replicas: Invalid value: \"object\":"
            + " replicas.min must not exceed replicas.max";
    Response merge =
        patch(
            JOBS + "/job", "application/merge-patch+json", "{\"spec\":{\"replicas\":{\"min\":4}}}");
    assertThat(merge.status()).isEqualTo(422);
    assertThat(merge.json().path("message").asText()).isEqualTo(replicasRule);
    Response jsonPatch =
        patch(
            JOBS + "/job",
            "application/json-patch+json",
            "[{\"op\":\"replace\",\"path\":\"/spec/replicas/min\",\"value\":4}]");
    assertThat(jsonPatch.status()).isEqualTo(422);
    assertThat(jsonPatch.json().path("message").asText()).isEqualTo(replicasRule);
    // A transition rule sees the stored object as oldSelf.
    Response immutable =
        patch(JOBS + "/job", "application/merge-patch+json", "{\"spec\":{\"precision\":\"fp32\"}}");
    assertThat(immutable.status()).isEqualTo(422);
    assertThat(immutable.json().path("message").asText())
        .isEqualTo(
            "MixedPrecisionJob.mpj.dev \"job\" is invalid: spec.precision: Invalid value:"
                + " \"string\": precision is immutable");
    Response unknown =
        patch(
            JOBS + "/job",
            "application/merge-patch+json",
            "{\"spec\":{\"replicas\":{\"most\":4}}}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().path("message").asText())
        .endsWith("strict decoding error: unknown field \"spec.replicas.most\"");
    Response strategic =
        patch(JOBS + "/job", "application/strategic-merge-patch+json", "{\"spec\":{}}");
    assertThat(strategic.status()).isEqualTo(415);
    JsonNode stored = get(JOBS + "/job", "application/json").json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) stored.get("spec")).put("precision", "fp32");
    Response replace =
        send(
            HttpRequest.newBuilder(uri(JOBS + "/job"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(stored))));
    assertThat(replace.status()).isEqualTo(422);
    assertThat(replace.json().path("message").asText()).contains("precision is immutable");

    // A dry run (kubectl diff) is checked and answered, and nothing is stored.
    Response dryRun =
        patch(
            JOBS + "/job?dryRun=All",
            "application/merge-patch+json",
            "{\"spec\":{\"training\":{\"steps\":301}}}");
    assertThat(dryRun.status()).isEqualTo(200);
    assertThat(dryRun.json().at("/spec/training/steps").asInt()).isEqualTo(301);
    assertThat(
            patch(
                    JOBS + "/job?dryRun=All",
                    "application/merge-patch+json",
                    "{\"spec\":{\"replicas\":{\"min\":4}}}")
                .status())
        .isEqualTo(422);
    assertThat(
            post(
                    "/api/v1/namespaces/default/configmaps?dryRun=All",
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}")
                .status())
        .isEqualTo(400);
    assertThat(get("/api/v1/namespaces/default/configmaps/c", "application/json").status())
        .isEqualTo(404);

    Response dryDelete =
        send(
            HttpRequest.newBuilder(uri(JOBS + "/job"))
                .header("Content-Type", "application/json")
                .method(
                    "DELETE",
                    HttpRequest.BodyPublishers.ofString(
                        "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"dryRun\":[\"All\"]}")));
    assertThat(dryDelete.status()).isEqualTo(200);

    JsonNode unchanged = get(JOBS + "/job", "application/json").json();
    assertThat(unchanged.at("/spec/training/steps").asInt()).isEqualTo(300);
    assertThat(unchanged.at("/spec/replicas/min").asInt()).isEqualTo(2);
    assertThat(unchanged.at("/spec/precision").asText()).isEqualTo("fp16-mixed");
    Response valid =
        patch(
            JOBS + "/job",
            "application/merge-patch+json",
            "{\"spec\":{\"runPolicy\":{\"suspend\":true}}}");
    assertThat(valid.status()).as("the mock answers a patch with 202").isBetween(200, 202);
    assertThat(
            get(JOBS + "/job", "application/json").json().at("/spec/runPolicy/suspend").asBoolean())
        .isTrue();
  }

  @Test
  void aggregatedDiscoveryListsEveryGroupsResourcesInOneDocument() throws Exception {
    String aggregated =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    HttpResponse<String> apis =
        http.send(
            HttpRequest.newBuilder(uri("/apis")).header("Accept", aggregated).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(apis.headers().firstValue("Content-Type").orElse(""))
        .isEqualTo("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    JsonNode groups = JSON.readTree(apis.body());
    assertThat(groups.path("kind").asText()).isEqualTo("APIGroupDiscoveryList");
    JsonNode mpj = null;
    for (JsonNode g : groups.path("items")) {
      if ("mpj.dev".equals(g.at("/metadata/name").asText())) {
        mpj = g;
      }
    }
    assertThat(mpj).isNotNull();
    JsonNode jobs = mpj.at("/versions/0/resources/0");
    assertThat(mpj.at("/versions/0/version").asText()).isEqualTo("v1alpha1");
    assertThat(jobs.path("resource").asText()).isEqualTo("mixedprecisionjobs");
    assertThat(jobs.path("scope").asText()).isEqualTo("Namespaced");
    assertThat(jobs.path("shortNames").toString()).isEqualTo("[\"mpj\"]");
    assertThat(jobs.at("/responseKind/kind").asText()).isEqualTo("MixedPrecisionJob");
    assertThat(jobs.at("/subresources/0/subresource").asText()).isEqualTo("status");

    JsonNode core = JSON.readTree(get("/api", aggregated).body());
    assertThat(core.at("/items/0/metadata/name").isMissingNode()).isTrue();
    JsonNode pods = core.at("/items/0/versions/0/resources/0");
    assertThat(pods.path("resource").asText()).isEqualTo("pods");
    assertThat(pods.path("subresources").toString()).contains("\"subresource\":\"log\"");
    // The legacy form, for older clients.
    assertThat(get("/api", "application/json").json().path("kind").asText())
        .isEqualTo("APIVersions");
  }

  @Test
  void podLogsComeFromTheNewestAttemptsLogFile() throws Exception {
    Path older = workDir.resolve("pods/job-worker-0-attempt-1");
    Path newer = workDir.resolve("pods/job-worker-0-attempt-2");
    Files.createDirectories(older);
    Files.createDirectories(newer);
    Files.writeString(older.resolve("log.txt"), "first attempt\n");
    Files.writeString(newer.resolve("log.txt"), "one\ntwo\nthree\n");
    String log = "/api/v1/namespaces/default/pods/job-worker-0/log";
    assertThat(get(log, "*/*").body()).isEqualTo("one\ntwo\nthree\n");
    assertThat(get(log + "?tailLines=2", "*/*").body()).isEqualTo("two\nthree\n");
    assertThat(get("/api/v1/namespaces/default/pods/nobody/log", "*/*").status()).isEqualTo(404);
  }

  @Test
  void followingAPodsLogStreamsWhatItWritesUntilThePodIsGone() throws Exception {
    Path attempt = workDir.resolve("pods/job-worker-0-attempt-1");
    Files.createDirectories(attempt);
    Path logFile = attempt.resolve("log.txt");
    Files.writeString(logFile, "one\ntwo\n");
    cluster
        .client()
        .pods()
        .inNamespace("default")
        .resource(
            new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata()
                .withName("job-worker-0")
                .endMetadata()
                .withNewStatus()
                .withPhase("Running")
                .endStatus()
                .build())
        .create();
    try (Watch log =
        watch("/api/v1/namespaces/default/pods/job-worker-0/log?follow=true&tailLines=1", "*/*")) {
      assertThat(log.nextLine()).isEqualTo("two");
      Files.writeString(logFile, "three\n", java.nio.file.StandardOpenOption.APPEND);
      assertThat(log.nextLine()).isEqualTo("three");
      cluster.client().pods().inNamespace("default").withName("job-worker-0").delete();
      assertThat(log.ended()).as("the stream ends with the pod").isTrue();
    }
  }

  @Test
  void openApiDescribesTheJobForKubectlExplain() throws Exception {
    JsonNode index = get("/openapi/v3", "application/json").json();
    String url = index.at("/paths/apis~1mpj.dev~1v1alpha1/serverRelativeURL").asText();
    assertThat(url).startsWith("/openapi/v3/apis/mpj.dev/v1alpha1");
    JsonNode doc = get(url, "application/json").json();
    JsonNode schema = doc.at("/components/schemas/dev.mpj.v1alpha1.MixedPrecisionJob");
    assertThat(schema.at("/x-kubernetes-group-version-kind/0/kind").asText())
        .isEqualTo("MixedPrecisionJob");
    assertThat(
            schema.at("/properties/spec/properties/replicas/properties/min/description").asText())
        .contains("Fewest replicas");
  }

  private static ResourceDefinitionContext context() {
    return new ResourceDefinitionContext.Builder()
        .withGroup("mpj.dev")
        .withVersion("v1alpha1")
        .withPlural("mixedprecisionjobs")
        .withKind("MixedPrecisionJob")
        .withNamespaced(true)
        .build();
  }

  /** The quick-start as JSON, renamed, with one text of its YAML replaced. */
  private static String job(String name, String from, String to) throws Exception {
    String yaml =
        Files.readString(LocalProcess.ROOT.resolve("docs/examples/quickstart.yaml"))
            .replace("name: quickstart", "name: " + name);
    if (!from.isEmpty()) {
      assertThat(yaml).contains(from);
      yaml = yaml.replace(from, to);
    }
    return JSON.writeValueAsString(new YAMLMapper().readTree(yaml));
  }

  record Response(int status, String body) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }
  }

  private Response get(String path, String accept) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).header("Accept", accept).GET());
  }

  private Response post(String path, String json) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  private Response patch(String path, String type, String json) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", type)
            .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
  }

  private Response send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> r =
        http.send(
            request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), r.body());
  }

  private URI uri(String path) {
    String base = cluster.url();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
  }
}
