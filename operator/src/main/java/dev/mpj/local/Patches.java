package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.util.Iterator;
import java.util.Map;

/**
 * A patch applied to an object, as the API server applies it before checking the result: a JSON
 * merge patch (RFC 7386, {@code application/merge-patch+json}) or a JSON patch (RFC 6902, {@code
 * application/json-patch+json}). The object given is not changed.
 */
final class Patches {
  private Patches() {}

  /**
   * The patched object; null for a content type this does not apply (server-side apply). A JSON
   * patch that does not apply is refused with its reason.
   */
  static JsonNode apply(String contentType, JsonNode object, JsonNode patch) {
    if (contentType.startsWith("application/merge-patch+json")) {
      return merge(object, patch);
    }
    if (contentType.startsWith("application/json-patch+json")) {
      if (!patch.isArray()) {
        throw new IllegalArgumentException("a JSON patch is a list of operations");
      }
      try {
        return JsonPatch.apply(patch, object);
      } catch (JsonPatchException e) {
        throw new IllegalArgumentException(
            "the server rejected our request due to an error in our request: " + e.getMessage(), e);
      }
    }
    return null;
  }

  /** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
  static JsonNode merge(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch.deepCopy();
    }
    ObjectNode result =
        target != null && target.isObject()
            ? ((ObjectNode) target).deepCopy()
            : ApiJson.JSON.createObjectNode();
    Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      if (f.getValue().isNull()) {
        result.remove(f.getKey());
      } else {
        result.set(f.getKey(), merge(result.get(f.getKey()), f.getValue()));
      }
    }
    return result;
  }
}
