package troupe.hazelcast.store;

import com.hazelcast.map.MapLoader;
import com.hazelcast.map.MapStoreFactory;
import java.util.Properties;

/**
 * Named in hazelcast.xml's `<map-store>` of the Troupe map configs: Hazelcast
 * asks it for one store per map name the config pattern matches, and the
 * `stored-maps` list (wildcards) decides which of them go to PostgreSQL.
 */
public final class PostgresStoreFactory implements MapStoreFactory<String, byte[]> {
  @Override
  public MapLoader<String, byte[]> newMapStore(String mapName, Properties properties) {
    if (!MapPatterns.parse(properties.getProperty("stored-maps", "")).matches(mapName)) return NotStored.INSTANCE;
    return new PostgresMapStore(mapName, StoreSettings.from(properties));
  }
}
