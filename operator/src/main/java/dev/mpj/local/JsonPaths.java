package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * The JSONPaths of CRD printer columns, in the simple form they take: {@code .a.b[0].c}. Anything
 * else (filters, wildcards) finds nothing, as a path that matches nothing does in the API server.
 */
final class JsonPaths {
  private JsonPaths() {}

  static JsonNode find(JsonNode object, String path) {
    String p = path.trim();
    if (p.startsWith("{") && p.endsWith("}")) {
      p = p.substring(1, p.length() - 1);
    }
    if (p.startsWith("$")) {
      p = p.substring(1);
    }
    JsonNode node = object;
    int i = 0;
    while (i < p.length() && node != null && !node.isMissingNode()) {
      char c = p.charAt(i);
      if (c == '.') {
        int end = i + 1;
        while (end < p.length() && p.charAt(end) != '.' && p.charAt(end) != '[') {
          end++;
        }
        node = node.path(p.substring(i + 1, end));
        i = end;
      } else if (c == '[') {
        int end = p.indexOf(']', i);
        if (end < 0) {
          return MissingNode.getInstance();
        }
        String index = p.substring(i + 1, end).trim();
        if (index.startsWith("'") && index.endsWith("'") && index.length() >= 2) {
          node = node.path(index.substring(1, index.length() - 1));
        } else if (index.matches("\\d+")) {
          node = node.path(Integer.parseInt(index));
        } else {
          return MissingNode.getInstance();
        }
        i = end + 1;
      } else {
        return MissingNode.getInstance();
      }
    }
    return node == null ? MissingNode.getInstance() : node;
  }
}
