package troupe.hazelcast.store;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.map.IMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tells Troupe nodes how this member keeps data: every few seconds it puts
 * one JSON entry, keyed by its UUID, in the small map `troupe.durability`
 * (with a time to live, so a dead member's entry goes away by itself). The
 * node reads that map and shows the mode in `/health/ready`.
 *
 * Registered in hazelcast.xml `<listeners>`; it reads the same system
 * properties the member config is built from, so it reports what the member
 * was actually started with.
 *
 * The first report waits until every member of `troupe.members` has joined
 * (or 30 s have passed): a map write creates the partition table, and one
 * created by a lone first member must then migrate half its partitions to
 * each member that joins, a window in which a write has no backup yet. A
 * table created with every member present has its backups from the start.
 */
public final class DurabilityPublisher implements LifecycleListener, HazelcastInstanceAware {
  static final String MAP = "troupe.durability";
  private static final long EVERY_SECONDS = 5;
  private static final long TTL_SECONDS = 20;

  private static final long FIRST_REPORT_LATEST_MS = 30_000;

  private volatile HazelcastInstance hz;
  private ScheduledExecutorService timer;
  private final long startedAt = System.currentTimeMillis();

  @Override
  public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
    this.hz = hazelcastInstance;
  }

  @Override
  public synchronized void stateChanged(LifecycleEvent event) {
    switch (event.getState()) {
      case STARTED, MERGED -> start();
      case SHUTTING_DOWN -> stop();
      default -> { }
    }
  }

  private void start() {
    if (timer != null || hz == null) return;
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "troupe-durability-publisher");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::publish, 0, EVERY_SECONDS, TimeUnit.SECONDS);
  }

  private void stop() {
    if (timer == null) return;
    timer.shutdownNow();
    timer = null;
  }

  private void publish() {
    try {
      HazelcastInstance instance = hz;
      if (instance == null || !instance.getLifecycleService().isRunning()) return;
      int expected = System.getProperty("troupe.members", "").split(",").length;
      boolean everyoneHere = instance.getCluster().getMembers().size() >= expected;
      if (!everyoneHere && System.currentTimeMillis() - startedAt < FIRST_REPORT_LATEST_MS) return;
      Member self = instance.getCluster().getLocalMember();
      IMap<String, String> map = instance.getMap(MAP);
      map.put(self.getUuid().toString(), report(self), TTL_SECONDS, TimeUnit.SECONDS);
    } catch (RuntimeException e) {
      // The cluster is changing (a merge, a shutdown): the next round publishes again.
    }
  }

  /** What is reported; never the password, never the full JDBC URL's parameters. */
  static String report(Member self) {
    boolean stored = Boolean.parseBoolean(System.getProperty("troupe.store.enabled", "false"));
    int delay = Integer.parseInt(System.getProperty("troupe.store.write-delay-seconds", "0").trim());
    String mode = !stored ? "none" : delay > 0 ? "write-behind" : "write-through";
    boolean quorumOn = Boolean.parseBoolean(System.getProperty("troupe.quorum.enabled", "false"));
    StringBuilder json = new StringBuilder(256).append('{');
    field(json, "member", self.getAddress().getHost() + ":" + self.getAddress().getPort()).append(',');
    field(json, "mode", mode).append(',');
    json.append("\"writeDelaySeconds\":").append(stored ? delay : 0).append(',');
    field(json, "store", stored ? "postgresql" : "none").append(',');
    field(json, "database", stored ? database(System.getProperty("troupe.store.url", "")) : "").append(',');
    field(json, "storedMaps", stored ? System.getProperty("troupe.store.maps", "") : "").append(',');
    json.append("\"quorum\":").append(quorumOn ? System.getProperty("troupe.quorum", "0").trim() : "0").append(',');
    json.append("\"lastStoreSuccessAt\":").append(StoreStatus.lastSuccessAt()).append(',');
    json.append("\"lastStoreFailureAt\":").append(StoreStatus.lastFailureAt()).append(',');
    field(json, "lastStoreFailure", StoreStatus.lastFailure()).append(',');
    json.append("\"at\":").append(System.currentTimeMillis());
    return json.append('}').toString();
  }

  /** `host:port/db` from `jdbc:postgresql://host:port/db?...`. */
  private static String database(String url) {
    String rest = url.replaceFirst("^jdbc:postgresql://", "");
    int q = rest.indexOf('?');
    return q < 0 ? rest : rest.substring(0, q);
  }

  private static StringBuilder field(StringBuilder json, String name, String value) {
    json.append('"').append(name).append("\":\"");
    for (char ch : value.toCharArray()) {
      switch (ch) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        default -> {
          if (ch < 0x20) json.append(String.format("\\u%04x", (int) ch));
          else json.append(ch);
        }
      }
    }
    return json.append('"');
  }
}
