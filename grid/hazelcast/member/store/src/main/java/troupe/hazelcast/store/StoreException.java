package troupe.hazelcast.store;

/**
 * A store operation that failed. Thrown out of MapStore methods, it fails the
 * map operation in write-through mode (the Troupe node answers E_UNAVAILABLE,
 * nothing acknowledged) and makes Hazelcast retry the batch in write-behind mode.
 */
final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
