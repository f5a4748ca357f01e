package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.mockwebserver.crud.AttributeSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The mock server's CRUD store ({@link IndexedCrudStore}), telling its subscribers of every change
 * as the API server's watch events: ADDED, MODIFIED, or DELETED with the object as it was (and, as
 * in a real API server, a resource version of its own). Subscribers are told while the store holds
 * its write lock, in the order of the changes; they must not block.
 */
final class WatchableStore extends IndexedCrudStore {

  /** One change: ADDED, MODIFIED or DELETED, and the object. */
  record Change(String type, JsonNode object) {
    long resourceVersion() {
      return WatchStream.version(object.at("/metadata/resourceVersion").asText(""));
    }
  }

  private final List<Consumer<Change>> subscribers = new CopyOnWriteArrayList<>();

  @Override
  public void processEvent(
      String path,
      AttributeSet pathAttributes,
      AttributeSet oldAttributes,
      GenericKubernetesResource resource,
      String newState) {
    String before = oldAttributes == null ? null : map.get(oldAttributes);
    super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
    if (Objects.equals(before, newState) || subscribers.isEmpty()) {
      return;
    }
    Change change;
    if (newState == null) {
      if (before == null) {
        return;
      }
      ObjectNode gone = (ObjectNode) parse(before);
      JsonNode metadata = gone.path("metadata");
      if (metadata instanceof ObjectNode m) {
        m.put("resourceVersion", String.valueOf(requestResourceVersion()));
      }
      change = new Change("DELETED", gone);
    } else {
      change = new Change(before == null ? "ADDED" : "MODIFIED", parse(newState));
    }
    subscribers.forEach(s -> s.accept(change));
  }

  /** Tells {@code subscriber} of every change from now on, until the returned handle is closed. */
  AutoCloseable subscribe(Consumer<Change> subscriber) {
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }

  private static JsonNode parse(String json) {
    try {
      return ApiJson.JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
