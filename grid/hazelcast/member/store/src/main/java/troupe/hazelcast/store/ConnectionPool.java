package troupe.hazelcast.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * JDBC connections of one member to one database, shared by every stored
 * map. Small on purpose (no pool library): connections open lazily, so a
 * member starts while PostgreSQL is down and its map operations fail (and
 * recover) instead; a connection that failed at the connection level is
 * dropped, never handed out again.
 *
 * Size: in write-through mode each store runs on a partition thread and holds
 * a connection for one upsert and its commit, so more connections than
 * partition threads only wait; write-behind needs one per flushing thread.
 */
final class ConnectionPool {
  /** Work done on a borrowed connection. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private static final Map<String, ConnectionPool> SHARED = new ConcurrentHashMap<>();

  private final String url;
  private final Properties props = new Properties();
  private final int borrowTimeoutMs;
  private final Semaphore permits;
  private final LinkedBlockingDeque<Connection> idle = new LinkedBlockingDeque<>();
  private volatile boolean closed;
  private volatile boolean schemaReady;
  private int users;

  private ConnectionPool(StoreSettings s) {
    url = s.url;
    props.setProperty("user", s.user);
    props.setProperty("password", s.password);
    props.setProperty("connectTimeout", String.valueOf(s.connectTimeoutSeconds));
    props.setProperty("socketTimeout", String.valueOf(s.socketTimeoutSeconds));
    props.setProperty("tcpKeepAlive", "true");
    // storeAll sends one multi-row INSERT per batch instead of one round trip per row.
    props.setProperty("reWriteBatchedInserts", "true");
    props.setProperty("ApplicationName", "troupe-member-store");
    borrowTimeoutMs = (s.connectTimeoutSeconds + s.socketTimeoutSeconds) * 1000;
    permits = new Semaphore(s.poolSize, true);
  }

  /** The member's pool for these settings, created on first use; give it back with {@link #release}. */
  static ConnectionPool acquire(StoreSettings s) {
    synchronized (SHARED) {
      ConnectionPool pool = SHARED.computeIfAbsent(s.poolKey(), k -> new ConnectionPool(s));
      pool.users++;
      return pool;
    }
  }

  /** Closes the pool when the last map using it is destroyed (member shutdown). */
  static void release(ConnectionPool pool) {
    synchronized (SHARED) {
      if (--pool.users > 0) return;
      SHARED.values().remove(pool);
    }
    pool.closed = true;
    for (Connection c; (c = pool.idle.pollFirst()) != null; ) quietClose(c);
  }

  /**
   * Runs `work` on a connection (autocommit on unless the work changes it and
   * restores it). SQL failures come back as {@link StoreException}, naming `what`.
   */
  <T> T run(String what, Work<T> work) {
    if (closed) throw new StoreException(what + ": the store is closed (member shutting down)", null);
    try {
      if (!permits.tryAcquire(borrowTimeoutMs, TimeUnit.MILLISECONDS)) {
        throw new StoreException(what + ": no database connection free within " + borrowTimeoutMs + " ms", null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(what + ": interrupted waiting for a database connection", e);
    }
    Connection c = null;
    boolean broken = false;
    try {
      c = idle.pollFirst();
      if (c == null) c = open();
      T result = work.run(c);
      StoreStatus.success();
      return result;
    } catch (SQLException e) {
      broken = c == null || isConnectionLevel(e, c);
      StoreStatus.failure(what + ": " + e.getMessage());
      throw new StoreException(what + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      broken = true;
      StoreStatus.failure(what + ": " + e);
      throw e;
    } finally {
      if (c != null) {
        if (broken || closed) quietClose(c);
        else idle.offerFirst(c);
      }
      permits.release();
    }
  }

  private Connection open() throws SQLException {
    Connection c = DriverManager.getConnection(url, props);
    if (!schemaReady) {
      try {
        Schema.ensure(c);
        schemaReady = true;
      } catch (SQLException e) {
        quietClose(c);
        throw e;
      }
    }
    return c;
  }

  /** Class 08 is "connection exception"; a closed or unusable connection counts too. */
  private static boolean isConnectionLevel(SQLException e, Connection c) {
    String state = e.getSQLState();
    if (state != null && (state.startsWith("08") || state.startsWith("57P"))) return true;
    try {
      return c.isClosed() || !c.isValid(1);
    } catch (SQLException ignored) {
      return true;
    }
  }

  private static void quietClose(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // already broken; nothing to do
    }
  }
}
