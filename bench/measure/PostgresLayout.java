// Table layout for the members' PostgreSQL store: one table keyed by (map, key)
// against one table per actor type keyed by key, on the store's own access
// patterns. Run through bench/measure/postgres-layout.ts, which starts a fresh
// PostgreSQL server and passes its JDBC URL:
//
//   java -cp <troupe-member-store.jar> bench/measure/PostgresLayout.java jdbc:postgresql://127.0.0.1:PORT/troupe troupe
//
// Every loop is bounded by a count and a time limit. Values have the size of a
// small actor record (16-byte header + ~100 bytes of state).
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

public class PostgresLayout {
  static final int TYPES = 10, KEYS_PER_TYPE = 1000, VALUE_BYTES = 120;
  static final long LIMIT_NANOS = 5_000_000_000L;
  static String url, user;

  interface Layout {
    String name();
    void create(Connection c) throws SQLException;
    void upsert(PreparedStatementCache c, int type, String key, long version, byte[] value) throws SQLException;
    void batch(Connection c, int type, List<String> keys, long version, byte[] value) throws SQLException;
    byte[] select(PreparedStatementCache c, int type, String key) throws SQLException;
  }

  /** One prepared statement per SQL text per connection, as pgjdbc's server-side cache ends up doing. */
  static final class PreparedStatementCache {
    final Connection c;
    final Map<String, PreparedStatement> byText = new HashMap<>();
    PreparedStatementCache(Connection c) { this.c = c; }
    PreparedStatement get(String sql) throws SQLException {
      PreparedStatement ps = byText.get(sql);
      if (ps == null) byText.put(sql, ps = c.prepareStatement(sql));
      return ps;
    }
  }

  static String type(int t) { return "troupe.actor.Type" + t; }

  static final Layout ONE_TABLE = new Layout() {
    public String name() { return "one table (map, key)"; }
    public void create(Connection c) throws SQLException {
      try (Statement st = c.createStatement()) {
        st.execute("DROP TABLE IF EXISTS m_records");
        st.execute("CREATE TABLE m_records (map text NOT NULL, key text NOT NULL, version bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (map, key))");
      }
    }
    static final String UPSERT = "INSERT INTO m_records (map, key, version, value) VALUES (?, ?, ?, ?) ON CONFLICT (map, key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value WHERE m_records.version <= EXCLUDED.version";
    public void upsert(PreparedStatementCache c, int t, String key, long version, byte[] value) throws SQLException {
      PreparedStatement ps = c.get(UPSERT);
      ps.setString(1, type(t)); ps.setString(2, key); ps.setLong(3, version); ps.setBytes(4, value);
      ps.executeUpdate();
    }
    public void batch(Connection c, int t, List<String> keys, long version, byte[] value) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
        for (String k : keys) { ps.setString(1, type(t)); ps.setString(2, k); ps.setLong(3, version); ps.setBytes(4, value); ps.addBatch(); }
        ps.executeBatch();
      }
    }
    public byte[] select(PreparedStatementCache c, int t, String key) throws SQLException {
      PreparedStatement ps = c.get("SELECT value FROM m_records WHERE map = ? AND key = ?");
      ps.setString(1, type(t)); ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) { return rs.next() ? rs.getBytes(1) : null; }
    }
  };

  static final Layout TABLE_PER_TYPE = new Layout() {
    public String name() { return "a table per type (key)"; }
    public void create(Connection c) throws SQLException {
      try (Statement st = c.createStatement()) {
        for (int t = 0; t < TYPES; t++) {
          st.execute("DROP TABLE IF EXISTS t_type" + t);
          st.execute("CREATE TABLE t_type" + t + " (key text PRIMARY KEY, version bigint NOT NULL, value bytea NOT NULL)");
        }
      }
    }
    String upsertSql(int t) { return "INSERT INTO t_type" + t + " (key, version, value) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value WHERE t_type" + t + ".version <= EXCLUDED.version"; }
    public void upsert(PreparedStatementCache c, int t, String key, long version, byte[] value) throws SQLException {
      PreparedStatement ps = c.get(upsertSql(t));
      ps.setString(1, key); ps.setLong(2, version); ps.setBytes(3, value);
      ps.executeUpdate();
    }
    public void batch(Connection c, int t, List<String> keys, long version, byte[] value) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement(upsertSql(t))) {
        for (String k : keys) { ps.setString(1, k); ps.setLong(2, version); ps.setBytes(3, value); ps.addBatch(); }
        ps.executeBatch();
      }
    }
    public byte[] select(PreparedStatementCache c, int t, String key) throws SQLException {
      PreparedStatement ps = c.get("SELECT value FROM t_type" + t + " WHERE key = ?");
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) { return rs.next() ? rs.getBytes(1) : null; }
    }
  };

  static Connection open() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("reWriteBatchedInserts", "true");
    return DriverManager.getConnection(url, p);
  }

  static String pct(long[] sortedNanos, double q) {
    if (sortedNanos.length == 0) return "-";
    return String.format("%.2f", sortedNanos[Math.min(sortedNanos.length - 1, (int) (sortedNanos.length * q))] / 1e6);
  }

  /** `threads` writers, one autocommit upsert each at a time (the write-through store on partition threads). */
  static void singleRowUpserts(Layout l, int threads, int maxOps) throws Exception {
    AtomicInteger next = new AtomicInteger();
    long[][] lat = new long[threads][];
    int[] counts = new int[threads];
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> fs = new ArrayList<>();
    byte[] value = new byte[VALUE_BYTES];
    for (int w = 0; w < threads; w++) {
      final int id = w;
      fs.add(pool.submit(() -> {
        long[] mine = new long[maxOps];
        int n = 0;
        Random rnd = new Random(id);
        try (Connection c = open()) {
          PreparedStatementCache pc = new PreparedStatementCache(c);
          while (System.nanoTime() - start < LIMIT_NANOS) {
            int i = next.getAndIncrement();
            if (i >= maxOps) break;
            int t = rnd.nextInt(TYPES);
            long t0 = System.nanoTime();
            l.upsert(pc, t, "k" + rnd.nextInt(KEYS_PER_TYPE), 1_000_000 + i, value);
            mine[n++] = System.nanoTime() - t0;
          }
        }
        lat[id] = Arrays.copyOf(mine, n);
        counts[id] = n;
        return null;
      }));
    }
    for (Future<?> f : fs) f.get();
    pool.shutdown();
    double secs = (System.nanoTime() - start) / 1e9;
    long[] all = Arrays.stream(lat).flatMapToLong(Arrays::stream).sorted().toArray();
    System.out.printf("  %-24s write-through upserts, %2d writers: %7.0f commits/s  p50 %s ms  p99 %s ms  (%d commits)%n", l.name(), threads, all.length / secs, pct(all, 0.5), pct(all, 0.99), all.length);
  }

  /** storeAll: batches of `size` rows of one type in one transaction (write-behind). */
  static void batches(Layout l, int size, int maxBatches) throws Exception {
    byte[] value = new byte[VALUE_BYTES];
    List<Long> lat = new ArrayList<>();
    int rows = 0;
    long start = System.nanoTime();
    try (Connection c = open()) {
      c.setAutoCommit(false);
      for (int b = 0; b < maxBatches && System.nanoTime() - start < LIMIT_NANOS; b++) {
        int t = b % TYPES;
        List<String> keys = new ArrayList<>(size);
        for (int i = 0; i < size; i++) keys.add("k" + ((b * size + i) % KEYS_PER_TYPE));
        long t0 = System.nanoTime();
        l.batch(c, t, keys, 2_000_000L + b, value);
        c.commit();
        lat.add(System.nanoTime() - t0);
        rows += size;
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    long[] all = lat.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf("  %-24s write-behind storeAll of %4d rows:     %7.0f rows/s     batch p50 %s ms  p99 %s ms  (%d batches)%n", l.name(), size, rows / secs, pct(all, 0.5), pct(all, 0.99), all.length);
  }

  static void loads(Layout l, int maxOps) throws Exception {
    Random rnd = new Random(7);
    List<Long> lat = new ArrayList<>();
    long start = System.nanoTime();
    try (Connection c = open()) {
      PreparedStatementCache pc = new PreparedStatementCache(c);
      for (int i = 0; i < maxOps && System.nanoTime() - start < LIMIT_NANOS; i++) {
        long t0 = System.nanoTime();
        if (l.select(pc, rnd.nextInt(TYPES), "k" + rnd.nextInt(KEYS_PER_TYPE)) == null) throw new IllegalStateException("missing row");
        lat.add(System.nanoTime() - t0);
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    long[] all = lat.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf("  %-24s load (one key):                    %7.0f loads/s    p50 %s ms  p99 %s ms%n", l.name(), all.length / secs, pct(all, 0.5), pct(all, 0.99));
  }

  public static void main(String[] args) throws Exception {
    url = args[0];
    user = args.length > 1 ? args[1] : "troupe";
    System.out.printf("# %d actor types x %d keys, %d-byte values; PostgreSQL %s; fsync on, synchronous_commit on%n", TYPES, KEYS_PER_TYPE, VALUE_BYTES, version());
    for (int round = 1; round <= 2; round++) {
      System.out.println("round " + round + (round == 1 ? " (warm-up)" : ""));
      for (Layout l : List.of(ONE_TABLE, TABLE_PER_TYPE)) {
        try (Connection c = open()) { l.create(c); }
        batches(l, 1000, 10 * TYPES); // also fills every key
        singleRowUpserts(l, 2, 200_000);
        singleRowUpserts(l, 8, 200_000);
        batches(l, 1000, 2_000);
        loads(l, 100_000);
      }
    }
  }

  static String version() throws SQLException {
    try (Connection c = open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
