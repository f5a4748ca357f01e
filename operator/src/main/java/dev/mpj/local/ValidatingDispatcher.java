package dev.mpj.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mpj.api.validation.KubernetesNames;
import dev.mpj.api.validation.KubernetesNames.Rule;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * In front of the mock API server's dispatcher: refuses a create or replace whose names, label keys
 * and values, or annotations a real API server would refuse, with the same 422 Invalid status and
 * the same kind of message. What it lets through goes to the dispatcher unchanged.
 *
 * <p>The rules by kind: a Service's name is a DNS-1035 label, a Namespace's a DNS-1123 label, a
 * pod's {@code spec.hostname} and {@code spec.subdomain} DNS-1123 labels, and every other name a
 * DNS-1123 subdomain (RBAC and review objects excepted, whose names are not checked here). Patches
 * are not checked.
 */
public final class ValidatingDispatcher extends Dispatcher {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** API groups whose objects' names follow other rules (path segments), or have none. */
  private static final Set<String> UNCHECKED_GROUPS =
      Set.of("rbac.authorization.k8s.io", "authorization.k8s.io", "authentication.k8s.io");

  private final Dispatcher next;

  public ValidatingDispatcher(Dispatcher next) {
    this.next = next;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String method = request.getMethod();
    if ("POST".equals(method) || "PUT".equals(method)) {
      MockResponse refusal = refusal(request);
      if (refusal != null) {
        return refusal;
      }
    }
    return next.dispatch(request);
  }

  @Override
  public void shutdown() {
    next.shutdown();
  }

  /** The 422 a real API server would answer, or null when the object is valid. */
  private static MockResponse refusal(RecordedRequest request) {
    if (request.getBody() == null || request.getBody().size() == 0) {
      return null;
    }
    JsonNode object;
    try {
      object = JSON.readTree(request.getBody().getBytes());
    } catch (java.io.IOException e) {
      return null;
    }
    if (object == null || !object.isObject()) {
      return null;
    }
    Resource resource = Resource.of(request.getPath());
    if (resource == null) {
      return null;
    }
    List<FieldError> errors = errors(resource, object);
    if (errors.isEmpty()) {
      return null;
    }
    String kind = object.path("kind").asText(resource.plural());
    String name = object.path("metadata").path("name").asText("");
    return new MockResponse().setResponseCode(422).setBody(status(kind, name, errors));
  }

  /** Every problem of the object, as field errors in the API server's words. */
  static List<FieldError> errors(Resource resource, JsonNode object) {
    List<FieldError> errors = new ArrayList<>();
    JsonNode metadata = object.path("metadata");
    String name = text(metadata.path("name"));
    Rule rule = resource.nameRule();
    if (rule != null && name != null && !name.isEmpty()) {
      for (String m : rule.check(name)) {
        errors.add(FieldError.invalid("metadata.name", name, m));
      }
    } else if (rule != null && (name == null || name.isEmpty())) {
      if (text(metadata.path("generateName")) == null) {
        errors.add(
            new FieldError(
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required"));
      }
    }
    Map<String, String> labels = strings(metadata.path("labels"));
    for (Map.Entry<String, String> e : labels.entrySet()) {
      for (String m : KubernetesNames.qualifiedName(e.getKey())) {
        errors.add(FieldError.invalid("metadata.labels", e.getKey(), m));
      }
      for (String m : KubernetesNames.labelValue(e.getValue())) {
        errors.add(FieldError.invalid("metadata.labels", e.getValue(), m));
      }
    }
    Map<String, String> annotations = strings(metadata.path("annotations"));
    for (String key : annotations.keySet()) {
      for (String m : KubernetesNames.qualifiedName(key)) {
        errors.add(FieldError.invalid("metadata.annotations", key, m));
      }
    }
    if (KubernetesNames.annotationsBytes(annotations) > KubernetesNames.ANNOTATIONS_MAX_BYTES) {
      errors.add(
          new FieldError(
              "metadata.annotations",
              "FieldValueTooLong",
              "Too long: must have at most " + KubernetesNames.ANNOTATIONS_MAX_BYTES + " bytes"));
    }
    if ("pods".equals(resource.plural()) && resource.group().isEmpty()) {
      for (String field : List.of("hostname", "subdomain")) {
        String value = text(object.path("spec").path(field));
        if (value != null && !value.isEmpty()) {
          for (String m : KubernetesNames.dns1123Label(value)) {
            errors.add(FieldError.invalid("spec." + field, value, m));
          }
        }
      }
    }
    return errors;
  }

  /** A metav1.Status of reason Invalid, as the API server writes it. */
  static String status(String kind, String name, List<FieldError> errors) {
    List<String> parts = errors.stream().map(FieldError::toString).toList();
    String message =
        kind
            + " \""
            + name
            + "\" is invalid: "
            + (parts.size() == 1 ? parts.get(0) : "[" + String.join(", ", parts) + "]");
    ObjectNode status = JSON.createObjectNode();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", "Invalid");
    ObjectNode details = status.putObject("details");
    details.put("name", name);
    details.put("kind", kind);
    ArrayNode causes = details.putArray("causes");
    for (FieldError e : errors) {
      ObjectNode cause = causes.addObject();
      cause.put("reason", e.reason());
      cause.put("message", e.message());
      cause.put("field", e.field());
    }
    status.put("code", 422);
    try {
      return JSON.writeValueAsString(status);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String text(JsonNode node) {
    return node.isTextual() ? node.asText() : null;
  }

  private static Map<String, String> strings(JsonNode node) {
    Map<String, String> map = new LinkedHashMap<>();
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e -> map.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
    }
    return map;
  }

  /** One field's problem, as {@code field.ErrorList} prints it. */
  record FieldError(String field, String reason, String message) {
    static FieldError invalid(String field, String value, String detail) {
      return new FieldError(
          field, "FieldValueInvalid", "Invalid value: \"" + value + "\": " + detail);
    }

    @Override
    public String toString() {
      return field + ": " + message;
    }
  }

  /** The API group and resource a request path addresses. */
  record Resource(String group, String plural) {
    /** From {@code /api/v1/[namespaces/NS/]PLURAL[/NAME[/SUB]]} or {@code /apis/G/V/...}. */
    static Resource of(String path) {
      int query = path.indexOf('?');
      String[] s = (query < 0 ? path : path.substring(0, query)).split("/");
      // s[0] is empty: the path starts with '/'.
      int i;
      String group;
      if (s.length >= 4 && "api".equals(s[1])) {
        group = "";
        i = 3;
      } else if (s.length >= 5 && "apis".equals(s[1])) {
        group = s[2];
        i = 4;
      } else {
        return null;
      }
      if ("namespaces".equals(s[i]) && s.length > i + 2) {
        i += 2;
      }
      return new Resource(group, s[i]);
    }

    /** The rule the object's name follows, or null for names not checked here. */
    Rule nameRule() {
      if (UNCHECKED_GROUPS.contains(group)) {
        return null;
      }
      if (group.isEmpty() && "services".equals(plural)) {
        return Rule.DNS1035_LABEL;
      }
      if (group.isEmpty() && "namespaces".equals(plural)) {
        return Rule.DNS1123_LABEL;
      }
      return Rule.DNS1123_SUBDOMAIN;
    }
  }
}
