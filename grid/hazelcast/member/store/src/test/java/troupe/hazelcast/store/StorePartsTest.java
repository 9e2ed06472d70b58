package troupe.hazelcast.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StorePartsTest {
  @Test
  void theVersionIsTheRecordsFirstEightBytesBigEndian() {
    byte[] record = {0, 0, 0, 0, 0, 0, 1, 2, 9, 9};
    assertEquals(258, PostgresMapStore.versionOf(record));
    assertEquals(0, PostgresMapStore.versionOf(new byte[] {1, 2, 3}), "too short to carry one");
    assertEquals(0, PostgresMapStore.versionOf(null));
    byte[] high = {(byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    assertEquals(Long.MAX_VALUE, PostgresMapStore.versionOf(high));
  }

  @Test
  void mapPatternsMatchWholeNamesWithWildcards() {
    MapPatterns p = MapPatterns.parse(" troupe.actor.*, troupe.cmap.troupe.sagas ,,troupe.wake");
    assertTrue(p.matches("troupe.actor.Counter"));
    assertTrue(p.matches("troupe.cmap.troupe.sagas"));
    assertTrue(p.matches("troupe.wake"));
    assertFalse(p.matches("troupe.wake2"), "a name without a wildcard matches only itself");
    assertFalse(p.matches("xtroupe.actor.Counter"));
    // Dots are literal, not regular-expression wildcards.
    assertFalse(MapPatterns.parse("troupe.wake").matches("troupeXwake"));
    assertFalse(MapPatterns.parse("").matches("anything"));
  }
}
