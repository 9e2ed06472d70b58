package troupe.hazelcast.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KeyColumnTest {
  @Test
  void plainKeysAreStoredAsTheyAre() {
    String key = "Counter/ä-🙂 'quoted' \\ back";
    assertSame(key, KeyColumn.toColumn(key));
    assertSame(key, KeyColumn.fromColumn(key));
  }

  @Test
  void nulAndTheEscapeCharacterRoundTrip() {
    // A wake-index key: shard NUL type NUL key, the key itself holding both special characters.
    String[] keys = {"7\u0000Counter\u0000a\u0000b", "\u0001", "\u00010", "\u0000\u0001\u0000", "end\u0001"};
    for (String key : keys) {
      String column = KeyColumn.toColumn(key);
      assertEquals(-1, column.indexOf('\u0000'), "no U+0000 reaches PostgreSQL");
      assertEquals(key, KeyColumn.fromColumn(column));
    }
    assertEquals("7\u00010Counter\u00010k", KeyColumn.toColumn("7\u0000Counter\u0000k"));
  }

  @Test
  void distinctKeysStayDistinct() {
    // Without escaping U+0001 itself, these two would map to the same column text.
    assertEquals(false, KeyColumn.toColumn("\u0000").equals(KeyColumn.toColumn("\u00010")));
  }

  @Test
  void aBrokenEscapeIsAnErrorNotAGuess() {
    assertThrows(IllegalArgumentException.class, () -> KeyColumn.fromColumn("a\u0001x"));
    assertThrows(IllegalArgumentException.class, () -> KeyColumn.fromColumn("a\u0001"));
  }
}
