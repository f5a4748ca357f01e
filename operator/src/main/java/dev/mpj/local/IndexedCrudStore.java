package dev.mpj.local;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesResponseComposer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.AttributeType;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * fabric8's CRUD store with an index: its reads find objects through the attributes they must carry
 * instead of testing every stored object.
 *
 * <p>The mock's store keeps each object under the set of its attributes (plural, namespace, name,
 * api group, version, each label) and answers a GET, and each create, update or patch's look-up of
 * the object it changes, by testing every stored object against the request's attributes: each
 * request costs as much as there are objects, and a ramp of N jobs costs N². Here every stored
 * attribute points to the objects that carry it, in the store's own order; a request tests only the
 * objects under the rarest attribute it requires by value (a GET by name: the few objects of that
 * name; a LIST by label: that label's objects), with the same test as the mock, so what it answers
 * is what the mock would: the same objects, in the same order, with the same resource versions,
 * conflicts and watch events (watches, deletes and the other attribute types go to the mock as they
 * are).
 */
class IndexedCrudStore extends KubernetesCrudDispatcher {
  /** The paths whose empty answer is an API group's resource list, as the mock answers them. */
  private static final Pattern API_RESOURCES_PATH =
      Pattern.compile("/apis(/[a-zA-Z0-9-_.]+)?(/[a-zA-Z0-9-_]+)");

  /**
   * Taken before the mock's own lock: writes exclusively (the index changes with the store), reads
   * shared (they read the store and the index without the mock's lock).
   */
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  /** The attributes a store key is indexed by; labels are added by their keys. */
  private static final List<String> INDEXED =
      List.of(
          KubernetesAttributesExtractor.PLURAL,
          KubernetesAttributesExtractor.NAMESPACE,
          KubernetesAttributesExtractor.NAME);

  private static final String LABEL_PREFIX = "labels:";

  /** Each indexed attribute, and the keys of the objects that carry it, in the store's order. */
  private final Map<Attribute, Set<AttributeSet>> objectsWith = new HashMap<>();

  /** Each stored key, and the attributes it is indexed under. */
  private final Map<AttributeSet, List<Attribute>> indexedUnder = new HashMap<>();

  /** The newest resource version handed out: what a list carries, as the mock's lists do. */
  private final AtomicLong newestVersion = new AtomicLong();

  private final KubernetesAttributesExtractor attributes =
      (KubernetesAttributesExtractor) attributeExtractor;

  @Override
  public MockResponse handleCreate(RecordedRequest request) {
    return locked(lock.writeLock(), () -> super.handleCreate(request));
  }

  @Override
  public MockResponse handleUpdate(RecordedRequest request) {
    return locked(lock.writeLock(), () -> super.handleUpdate(request));
  }

  @Override
  public MockResponse handlePatch(RecordedRequest request) {
    return locked(lock.writeLock(), () -> super.handlePatch(request));
  }

  @Override
  public MockResponse handleDelete(String path) {
    return locked(lock.writeLock(), () -> super.handleDelete(path));
  }

  @Override
  public void reset() {
    locked(
        lock.writeLock(),
        () -> {
          super.reset();
          objectsWith.clear();
          indexedUnder.clear();
          return null;
        });
  }

  @Override
  public MockResponse handleGet(String path) {
    if (watches(path)) {
      return locked(lock.readLock(), () -> super.handleGet(path));
    }
    AttributeSet query = attributes.fromPath(path);
    List<Attribute> required = requiredValues(query, labelKeys(path));
    List<String> items = locked(lock.readLock(), () -> find(query, required));
    if (query.containsKey(KubernetesAttributesExtractor.NAME)) {
      return items.isEmpty()
          ? new MockResponse().setResponseCode(HttpURLConnection.HTTP_NOT_FOUND)
          : new MockResponse().setResponseCode(HttpURLConnection.HTTP_OK).setBody(items.get(0));
    }
    if (items.isEmpty() && API_RESOURCES_PATH.matcher(path).matches()) {
      // An API group's discovery, which the mock answers from the CRDs it knows.
      return locked(lock.readLock(), () -> super.handleGet(path));
    }
    return new MockResponse()
        .setResponseCode(HttpURLConnection.HTTP_OK)
        .setBody(
            ((KubernetesResponseComposer) responseComposer)
                .compose(items, String.valueOf(newestVersion.get())));
  }

  /** The look-up of the object a create, update or patch changes (under the write lock). */
  @Override
  public Map.Entry<AttributeSet, String> findResource(AttributeSet query) {
    for (AttributeSet key : candidates(requiredValues(query, List.of()))) {
      if (key.matches(query)) {
        return new AbstractMap.SimpleImmutableEntry<>(key, map.get(key));
      }
    }
    return null;
  }

  @Override
  public long requestResourceVersion() {
    long version = super.requestResourceVersion();
    newestVersion.accumulateAndGet(version, Math::max);
    return version;
  }

  /** Every change of the store passes here, under the mock's write lock and this one's. */
  @Override
  public void processEvent(
      String path,
      AttributeSet pathAttributes,
      AttributeSet oldAttributes,
      GenericKubernetesResource resource,
      String newState) {
    super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
    if (oldAttributes != null) {
      unindex(oldAttributes);
    }
    if (newState != null) {
      // The key the mock stored the new state under, found as the mock finds it.
      GenericKubernetesResource stored =
          resource != null
              ? resource
              : Serialization.unmarshal(newState, GenericKubernetesResource.class);
      AttributeSet key = attributes.extract(stored);
      if (!key.containsKey(KubernetesAttributesExtractor.PLURAL)) {
        key = AttributeSet.merge(pathAttributes, key);
      }
      unindex(key);
      if (map.containsKey(key)) {
        Map<String, String> labels = stored.getMetadata().getLabels();
        index(key, labels == null ? Set.of() : labels.keySet());
      }
    }
  }

  /** The stored objects that match {@code query}, in the store's order. */
  private List<String> find(AttributeSet query, List<Attribute> required) {
    List<String> found = new ArrayList<>();
    for (AttributeSet key : candidates(required)) {
      if (key.matches(query)) {
        found.add(map.get(key));
      }
    }
    return found;
  }

  /**
   * The keys that may match a query that requires {@code required}: those under the rarest of them,
   * or every key when it requires none of the indexed attributes. A key that matches carries every
   * attribute the query requires, so it is under each of them.
   */
  private Collection<AttributeSet> candidates(List<Attribute> required) {
    Collection<AttributeSet> fewest = null;
    for (Attribute attribute : required) {
      Set<AttributeSet> with = objectsWith.get(attribute);
      if (with == null) {
        return List.of();
      }
      if (fewest == null || with.size() < fewest.size()) {
        fewest = with;
      }
    }
    return new ArrayList<>(fewest != null ? fewest : map.keySet());
  }

  /**
   * What a query requires by value of the attributes this store indexes: its plural, namespace,
   * name, and the labels of {@code labelKeys} that it requires to equal a value.
   */
  private static List<Attribute> requiredValues(AttributeSet query, Collection<String> labelKeys) {
    List<Attribute> required = new ArrayList<>();
    for (String name : indexedNames(labelKeys)) {
      Attribute attribute = query.getAttribute(name);
      if (attribute != null && attribute.getType() == AttributeType.WITH) {
        required.add(attribute);
      }
    }
    return required;
  }

  /** The attribute names this store indexes, with the labels of {@code labelKeys}. */
  private static List<String> indexedNames(Collection<String> labelKeys) {
    List<String> names = new ArrayList<>(INDEXED);
    for (String label : labelKeys) {
      names.add(LABEL_PREFIX + label);
    }
    return names;
  }

  /** The keys of the label selector of {@code path}'s query, as the mock reads them. */
  static List<String> labelKeys(String path) {
    String selector = ApiJson.query(path, "labelSelector");
    if (selector == null || selector.isBlank()) {
      return List.of();
    }
    List<String> keys = new ArrayList<>();
    for (String requirement : selector.split(",")) {
      int eq = requirement.indexOf('=');
      if (eq > 0 && requirement.charAt(eq - 1) != '!') {
        keys.add(requirement.substring(0, eq).trim());
      }
    }
    return keys;
  }

  private void index(AttributeSet key, Collection<String> labelKeys) {
    List<Attribute> under = new ArrayList<>();
    for (String name : indexedNames(labelKeys)) {
      Attribute attribute = key.getAttribute(name);
      if (attribute != null && attribute.getType() == AttributeType.WITH) {
        objectsWith.computeIfAbsent(attribute, a -> new LinkedHashSet<>()).add(key);
        under.add(attribute);
      }
    }
    indexedUnder.put(key, under);
  }

  private void unindex(AttributeSet key) {
    List<Attribute> under = indexedUnder.remove(key);
    if (under == null) {
      return;
    }
    for (Attribute attribute : under) {
      Set<AttributeSet> with = objectsWith.get(attribute);
      if (with != null && with.remove(key) && with.isEmpty()) {
        objectsWith.remove(attribute);
      }
    }
  }

  private static boolean watches(String path) {
    try {
      String query = new URI(path).getQuery();
      return query != null && query.contains("watch=true");
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static <T> T locked(Lock lock, Supplier<T> action) {
    lock.lock();
    try {
      return action.get();
    } finally {
      lock.unlock();
    }
  }
}
