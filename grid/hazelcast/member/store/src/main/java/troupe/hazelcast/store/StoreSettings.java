package troupe.hazelcast.store;

import java.util.Properties;

/**
 * The store's settings, checked once where they enter: the map-store
 * properties of hazelcast.xml (which maps are stored, versioned, preloaded)
 * and the member's system properties (where the database is). The password
 * comes from the environment only (`TROUPE_STORE_PASSWORD`): system
 * properties show in `ps`.
 */
final class StoreSettings {
  /** `jdbc:postgresql://host:port/db`. */
  final String url;
  final String user;
  final String password;
  /** Connections per member, shared by every stored map of the member. */
  final int poolSize;
  /** Seconds to open a connection, and the longest a statement may wait on the socket. */
  final int connectTimeoutSeconds;
  final int socketTimeoutSeconds;
  final MapPatterns stored;
  /** Maps whose values carry Troupe's 8-byte version prefix (actor records). */
  final MapPatterns versioned;
  /**
   * Maps whose keys are listed at first use (loadAllKeys): small indexes the
   * runtime scans by key (the saga journal, wake indexes). Actor records are
   * never preloaded: they are loaded one by one when an actor is called.
   */
  final MapPatterns preloaded;

  private StoreSettings(Properties p) {
    url = required("troupe.store.url", System.getProperty("troupe.store.url"));
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("troupe.store.url must be a jdbc:postgresql: URL, got '" + url + "'");
    }
    user = System.getProperty("troupe.store.user", "troupe");
    String pw = System.getenv("TROUPE_STORE_PASSWORD");
    password = pw == null ? "" : pw;
    poolSize = positive("troupe.store.pool-size", System.getProperty("troupe.store.pool-size", "8"));
    connectTimeoutSeconds = positive("troupe.store.connect-timeout-seconds", System.getProperty("troupe.store.connect-timeout-seconds", "3"));
    socketTimeoutSeconds = positive("troupe.store.socket-timeout-seconds", System.getProperty("troupe.store.socket-timeout-seconds", "10"));
    stored = MapPatterns.parse(p.getProperty("stored-maps", ""));
    versioned = MapPatterns.parse(p.getProperty("versioned-maps", "troupe.actor.*"));
    preloaded = MapPatterns.parse(p.getProperty("preload-maps", ""));
  }

  static StoreSettings from(Properties p) {
    return new StoreSettings(p);
  }

  /** Key of the connection pool these settings share with other maps of the member. */
  String poolKey() {
    return url + "|" + user;
  }

  private static String required(String name, String value) {
    if (value == null || value.isBlank()) throw new IllegalArgumentException(name + " is not set (the member launcher passes it with -D" + name + "=...)");
    return value.trim();
  }

  private static int positive(String name, String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n > 0) return n;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be a positive integer, got '" + value + "'");
  }
}
