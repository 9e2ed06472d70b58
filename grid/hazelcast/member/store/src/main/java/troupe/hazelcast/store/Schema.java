package troupe.hazelcast.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The two tables the store writes, created on first connection if missing.
 *
 *   troupe_records   maps whose values start with Troupe's 8-byte version
 *                    (actor records, `troupe.actor.*`): the version has its
 *                    own column so an upsert can refuse to go backwards.
 *   troupe_entries   every other stored map: saga journal, wake indexes,
 *                    existence markers (`troupe.exists.*`).
 *
 * Both keyed by (map, key): `map` is the IMap's name, `key` and `value` are
 * exactly what the IMap holds. One table for every actor type rather than a
 * table per type: measured (bench/measure/postgres-layout.ts, figures in
 * PostgresMapStore) the same for single rows and ~15% slower only for large
 * batches, at rates far above what members send; and one table needs no DDL
 * when a new actor type appears, no escaping of type names into SQL
 * identifiers, and one place for an operator to look.
 */
final class Schema {
  static final String RECORDS = "troupe_records";
  static final String ENTRIES = "troupe_entries";
  /** Any constant: serialises the CREATEs of members starting at once (CREATE ... IF NOT EXISTS can race). */
  private static final long DDL_LOCK = 0x74726f757065L;

  private Schema() {}

  static void ensure(Connection c) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
      st.execute("CREATE TABLE IF NOT EXISTS " + RECORDS + " (map text NOT NULL, key text NOT NULL, version bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (map, key))");
      st.execute("CREATE TABLE IF NOT EXISTS " + ENTRIES + " (map text NOT NULL, key text NOT NULL, value bytea NOT NULL, PRIMARY KEY (map, key))");
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }
}
