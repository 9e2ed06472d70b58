package troupe.hazelcast.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.MapLoaderLifecycleSupport;
import com.hazelcast.map.MapStore;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * One IMap stored in PostgreSQL: keys and values exactly as the IMap holds
 * them (for actor records the 16-byte version + write-id prefix included, see
 * grid/hazelcast/record-codec.ts), one row per entry in the table Schema picks.
 *
 * Loading is on demand (MapLoader.load/loadAll when an operation misses the
 * member's memory); loadAllKeys answers only for the small indexes listed in
 * `preload-maps`, so a restarted grid does not read every actor at start.
 *
 * Writes never move an actor record backwards: the upsert keeps the stored
 * row when it holds a higher version than the one written. Within one live
 * cluster that never happens (the IMap itself is version-checked); it guards
 * the database against a stale writer from outside it, a delayed write-behind
 * flush or a member merging in after a split brain.
 *
 * Table layout: one table for every actor type, keyed by (map, key), rather
 * than a table per type keyed by key. Measured with
 * bench/measure/postgres-layout.ts (PostgreSQL 15, fsync and
 * synchronous_commit on, this project's 2-core machine, 10 actor types x
 * 1000 keys, 120-byte values, second round):
 *
 *                                         one table (map, key)   table per type (key)
 *   write-through upserts, 2 connections   4,750 commits/s        4,877 commits/s
 *     (autocommit, one row each)           p50 0.41 / p99 0.89 ms p50 0.41 / p99 0.65 ms
 *   write-through upserts, 8 connections   14,094 commits/s       14,329 commits/s
 *   write-behind storeAll, 1000 rows/txn   138,077 rows/s         160,688 rows/s
 *   load one key                           11,505/s, p50 0.08 ms  12,558/s, p50 0.07 ms
 *
 * Per-row operations (what write-through and loading do) are within a few
 * per cent; batches are ~15% faster with the narrower per-type index, at
 * rates 100x what the members send (a second of coalesced changes). So the
 * simpler layout wins: no DDL when a new actor type appears, no type names
 * escaped into SQL identifiers (or cut at 63 bytes), one place for an
 * operator to look.
 *
 * Concurrency matters more than layout: 8 connections commit 3x what 2 do
 * (PostgreSQL flushes concurrent commits' WAL together). A write-through
 * store runs on the member's partition threads, so those bound it
 * (`troupe.partition-threads`); on this 2-core machine the bench row is
 * CPU-bound before that (bench/README.md).
 */
final class PostgresMapStore implements MapStore<String, byte[]>, MapLoaderLifecycleSupport {
  /** Keys per `= ANY(?)` query when loading many: bounded statement size. */
  private static final int LOAD_CHUNK = 1000;

  private final String map;
  private final StoreSettings settings;
  private final boolean versioned;
  private final boolean preload;
  private final String upsert;
  private final String select;
  private final String selectMany;
  private final String delete;
  private volatile ConnectionPool pool;

  PostgresMapStore(String map, StoreSettings settings) {
    this.map = map;
    this.settings = settings;
    this.versioned = settings.versioned.matches(map);
    this.preload = settings.preloaded.matches(map);
    String table = versioned ? Schema.RECORDS : Schema.ENTRIES;
    this.upsert = versioned
        ? "INSERT INTO " + table + " (map, key, version, value) VALUES (?, ?, ?, ?) ON CONFLICT (map, key) DO UPDATE"
            + " SET version = EXCLUDED.version, value = EXCLUDED.value WHERE " + table + ".version <= EXCLUDED.version"
        : "INSERT INTO " + table + " (map, key, value) VALUES (?, ?, ?) ON CONFLICT (map, key) DO UPDATE SET value = EXCLUDED.value";
    this.select = "SELECT value FROM " + table + " WHERE map = ? AND key = ?";
    this.selectMany = "SELECT key, value FROM " + table + " WHERE map = ? AND key = ANY(?)";
    this.delete = "DELETE FROM " + table + " WHERE map = ? AND key = ?";
  }

  @Override
  public void init(HazelcastInstance hz, Properties props, String mapName) {
    pool = ConnectionPool.acquire(settings);
  }

  @Override
  public void destroy() {
    ConnectionPool p = pool;
    pool = null;
    if (p != null) ConnectionPool.release(p);
  }

  private ConnectionPool pool() {
    ConnectionPool p = pool;
    if (p == null) throw new StoreException("map " + map + ": the store is not initialised or already destroyed", null);
    return p;
  }

  /** The version an actor record carries in its first 8 bytes (big-endian); 0 for anything shorter. */
  static long versionOf(byte[] value) {
    if (value == null || value.length < 8) return 0;
    long v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | (value[i] & 0xffL);
    return v;
  }

  private void bindUpsert(PreparedStatement ps, String key, byte[] value) throws SQLException {
    ps.setString(1, map);
    ps.setString(2, KeyColumn.toColumn(key));
    if (versioned) {
      ps.setLong(3, versionOf(value));
      ps.setBytes(4, value);
    } else {
      ps.setBytes(3, value);
    }
  }

  /** Write-through: called on the partition thread, before the map operation answers. */
  @Override
  public void store(String key, byte[] value) {
    pool().run("store " + map, c -> {
      try (PreparedStatement ps = c.prepareStatement(upsert)) {
        bindUpsert(ps, key, value);
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** Write-behind: one transaction per batch, so a flush lands whole or not at all (and is then retried by Hazelcast). */
  @Override
  public void storeAll(Map<String, byte[]> entries) {
    if (entries.isEmpty()) return;
    pool().run("storeAll " + map + " (" + entries.size() + " entries)", c -> inTransaction(c, () -> {
      try (PreparedStatement ps = c.prepareStatement(upsert)) {
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
          bindUpsert(ps, e.getKey(), e.getValue());
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }));
  }

  @Override
  public void delete(String key) {
    pool().run("delete " + map, c -> {
      try (PreparedStatement ps = c.prepareStatement(delete)) {
        ps.setString(1, map);
        ps.setString(2, KeyColumn.toColumn(key));
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public void deleteAll(Collection<String> keys) {
    if (keys.isEmpty()) return;
    pool().run("deleteAll " + map + " (" + keys.size() + " keys)", c -> inTransaction(c, () -> {
      try (PreparedStatement ps = c.prepareStatement(delete)) {
        for (String key : keys) {
          ps.setString(1, map);
          ps.setString(2, KeyColumn.toColumn(key));
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }));
  }

  @Override
  public byte[] load(String key) {
    return pool().run("load " + map, c -> {
      try (PreparedStatement ps = c.prepareStatement(select)) {
        ps.setString(1, map);
        ps.setString(2, KeyColumn.toColumn(key));
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getBytes(1) : null;
        }
      }
    });
  }

  @Override
  public Map<String, byte[]> loadAll(Collection<String> keys) {
    Map<String, byte[]> out = new HashMap<>();
    if (keys.isEmpty()) return out;
    List<String> all = new ArrayList<>(keys);
    pool().run("loadAll " + map + " (" + all.size() + " keys)", c -> {
      for (int from = 0; from < all.size(); from += LOAD_CHUNK) {
        List<String> chunk = all.subList(from, Math.min(all.size(), from + LOAD_CHUNK));
        Array array = c.createArrayOf("text", chunk.stream().map(KeyColumn::toColumn).toArray());
        try (PreparedStatement ps = c.prepareStatement(selectMany)) {
          ps.setString(1, map);
          ps.setArray(2, array);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.put(KeyColumn.fromColumn(rs.getString(1)), rs.getBytes(2));
          }
        } finally {
          array.free();
        }
      }
      return null;
    });
    return out;
  }

  /** Null (no initial load) unless this map is a small index listed in `preload-maps`. */
  @Override
  public Iterable<String> loadAllKeys() {
    if (!preload) return null;
    return pool().run("loadAllKeys " + map, c -> {
      List<String> keys = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT key FROM " + (versioned ? Schema.RECORDS : Schema.ENTRIES) + " WHERE map = ?")) {
        ps.setString(1, map);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) keys.add(KeyColumn.fromColumn(rs.getString(1)));
        }
      }
      return keys;
    });
  }

  private interface SqlBlock {
    void run() throws SQLException;
  }

  private static Void inTransaction(Connection c, SqlBlock block) throws SQLException {
    c.setAutoCommit(false);
    try {
      block.run();
      c.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // the connection is broken; the pool drops it
      }
      throw e;
    } finally {
      try {
        c.setAutoCommit(true);
      } catch (SQLException ignored) {
        // as above
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "PostgresMapStore{" + map + (versioned ? ", versioned" : "") + (preload ? ", preloaded" : "") + "}";
  }
}
