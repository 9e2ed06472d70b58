package troupe.hazelcast.store;

import com.hazelcast.map.MapLoader;
import java.util.Collection;
import java.util.Map;

/**
 * What a Troupe map that `stored-maps` does not list gets: a loader with
 * nothing to load and no store, so its writes go nowhere and a miss costs a
 * method call, not a query. (The factory must return something for every map
 * its config pattern matches.)
 */
final class NotStored implements MapLoader<String, byte[]> {
  static final NotStored INSTANCE = new NotStored();

  private NotStored() {}

  @Override
  public byte[] load(String key) {
    return null;
  }

  @Override
  public Map<String, byte[]> loadAll(Collection<String> keys) {
    return Map.of();
  }

  @Override
  public Iterable<String> loadAllKeys() {
    return null;
  }
}
