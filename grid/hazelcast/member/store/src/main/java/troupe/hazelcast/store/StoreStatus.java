package troupe.hazelcast.store;

/**
 * The member's last store outcome, for the durability report operators and
 * Troupe nodes read (`troupe.durability`, see DurabilityPublisher): a store
 * that keeps failing shows there, not only in the member's log.
 */
final class StoreStatus {
  private static volatile long lastSuccessAt;
  private static volatile long lastFailureAt;
  private static volatile String lastFailure = "";

  private StoreStatus() {}

  static void success() {
    lastSuccessAt = System.currentTimeMillis();
  }

  static void failure(String what) {
    lastFailureAt = System.currentTimeMillis();
    lastFailure = what.length() > 300 ? what.substring(0, 300) : what;
  }

  static long lastSuccessAt() {
    return lastSuccessAt;
  }

  static long lastFailureAt() {
    return lastFailureAt;
  }

  static String lastFailure() {
    return lastFailure;
  }
}
