package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.util.List;

/**
 * Refuses a custom resource that its CRD's schema or CEL rules refuse, on create (POST), replace
 * (PUT) and patch (PATCH: kubectl patch, and kubectl apply of an object that exists), with the API
 * server's answer: 422 Invalid and {@code MixedPrecisionJob.mpj.dev "NAME" is invalid: FIELD:
 * MESSAGE}, or 400 BadRequest naming an unknown field (unless the request asked for {@code
 * fieldValidation=Ignore} or {@code Warn}). An update is checked as the object it would store (a
 * patch applied to the stored object), and its transition rules see the stored one as {@code
 * oldSelf}. A strategic merge patch is refused with 415, as the API server refuses it for custom
 * resources. A dry run ({@code ?dryRun=All}: kubectl diff, {@code --dry-run=server}) of a job is
 * checked and answered with the object it would store, which is not stored; a dry-run delete of
 * anything answers with the object, which stays; other dry runs are refused, since the mock store
 * would carry them out.
 */
final class AdmissionDispatcher extends Dispatcher {
  private final CustomResourceDefinition crd;
  private final CrdAdmission admission;
  private final Dispatcher next;

  AdmissionDispatcher(CustomResourceDefinition crd, Dispatcher next) {
    this.crd = crd;
    this.admission = new CrdAdmission(crd);
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String method = request.getMethod();
    boolean dryRun = ApiJson.query(request, "dryRun") != null;
    if ("DELETE".equals(method) && (dryRun || deleteOptionsDryRun(request))) {
      // Deleted in a dry run: the object as it is, which stays.
      return next.dispatch(get(ApiJson.path(request)));
    }
    if (!"POST".equals(method) && !"PUT".equals(method) && !"PATCH".equals(method)) {
      return next.dispatch(request);
    }
    ValidatingDispatcher.Resource resource = ValidatingDispatcher.Resource.of(request.getPath());
    String path = ApiJson.path(request);
    if (resource == null
        || !resource.group().equals(crd.getSpec().getGroup())
        || !resource.plural().equals(crd.getSpec().getNames().getPlural())
        || path.endsWith("/status")
        || request.getBody() == null
        || request.getBody().size() == 0) {
      return dryRun ? dryRunRefused() : next.dispatch(request);
    }
    JsonNode body;
    try {
      body = ApiJson.JSON.readTree(request.getBody().getBytes());
    } catch (IOException e) {
      return next.dispatch(request);
    }
    JsonNode old = "POST".equals(method) ? null : stored(path);
    JsonNode object = body;
    if ("PATCH".equals(method)) {
      String type = String.valueOf(request.getHeader("Content-Type"));
      if (type.startsWith("application/strategic-merge-patch+json")) {
        return ApiJson.failure(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include:"
                + " application/json-patch+json, application/merge-patch+json,"
                + " application/apply-patch+yaml");
      }
      if (old == null) {
        return next.dispatch(request);
      }
      try {
        object = Patches.apply(type, old, body);
      } catch (IllegalArgumentException e) {
        return ApiJson.failure(422, "Invalid", e.getMessage());
      }
      if (object == null) {
        return next.dispatch(request);
      }
    }
    if (object == null || !object.isObject()) {
      return next.dispatch(request);
    }
    String validation = ApiJson.query(request, "fieldValidation");
    boolean strict = validation == null || "Strict".equals(validation);
    List<CrdAdmission.Problem> problems =
        admission.problems(object, old).stream().filter(p -> strict || !p.unknownField()).toList();
    if (!problems.isEmpty()) {
      return refusal(object.at("/metadata/name").asText(""), problems);
    }
    if (dryRun) {
      // kubectl diff and --dry-run=server: checked, answered with what would be stored, not stored.
      return new MockResponse()
          .setResponseCode("POST".equals(method) ? 201 : 200)
          .setHeader("Content-Type", "application/json")
          .setBody(ApiJson.write(object));
    }
    return next.dispatch(request);
  }

  /** Whether a DELETE's body (DeleteOptions, as kubectl sends it) asks for a dry run. */
  private static boolean deleteOptionsDryRun(RecordedRequest request) {
    if (request.getBody() == null || request.getBody().size() == 0) {
      return false;
    }
    try {
      JsonNode options = ApiJson.JSON.readTree(request.getBody().getBytes());
      return options != null && options.path("dryRun").size() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** The mock store has no dry run: refused rather than carried out. */
  private static MockResponse dryRunRefused() {
    return ApiJson.failure(
        400,
        "BadRequest",
        "dryRun is supported by the local cluster for deletes, and for MixedPrecisionJobs (create,"
            + " update and patch)");
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  private MockResponse refusal(String name, List<CrdAdmission.Problem> problems) {
    String kind = crd.getSpec().getNames().getKind();
    List<CrdAdmission.Problem> unknown =
        problems.stream().filter(CrdAdmission.Problem::unknownField).toList();
    if (!unknown.isEmpty()) {
      List<String> fields =
          unknown.stream().map(p -> "unknown field \"" + p.field() + "\"").toList();
      return ApiJson.failure(
          400,
          "BadRequest",
          kind
              + " in version \""
              + crd.getSpec().getVersions().get(0).getName()
              + "\" cannot be handled as a "
              + kind
              + ": strict decoding error: "
              + String.join(", ", fields));
    }
    List<String> parts = problems.stream().map(CrdAdmission.Problem::toString).toList();
    String message =
        kind
            + "."
            + crd.getSpec().getGroup()
            + " \""
            + name
            + "\" is invalid: "
            + (parts.size() == 1 ? parts.get(0) : "[" + String.join(", ", parts) + "]");
    ObjectNode status = ApiJson.JSON.createObjectNode();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", "Invalid");
    ObjectNode details = status.putObject("details");
    details.put("name", name);
    details.put("group", crd.getSpec().getGroup());
    details.put("kind", kind);
    ArrayNode causes = details.putArray("causes");
    for (CrdAdmission.Problem p : problems) {
      causes
          .addObject()
          .put("reason", "FieldValueInvalid")
          .put("message", p.message())
          .put("field", p.field());
    }
    status.put("code", 422);
    return new MockResponse()
        .setResponseCode(422)
        .setHeader("Content-Type", "application/json")
        .setBody(ApiJson.write(status));
  }

  private static RecordedRequest get(String path) {
    return new RecordedRequest(
        "HTTP/1.1",
        HttpMethod.GET,
        path,
        Headers.builder().add("Accept", "application/json").build(),
        new Buffer());
  }

  private JsonNode stored(String path) {
    MockResponse response = next.dispatch(get(path));
    if (response.code() != 200 || response.getBody() == null) {
      return null;
    }
    try {
      return ApiJson.JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return null;
    }
  }
}
