package troupe.hazelcast.store;

/**
 * IMap keys as the text `key` column holds them. PostgreSQL text cannot hold
 * U+0000, and Troupe's own keys contain it (the wake index joins shard, type
 * and key with it; a client may send one in an actor key), so the store
 * escapes it reversibly: U+0001 is the escape character, U+0000 is written
 * as U+0001 '0' and U+0001 itself as U+0001 '1'. Every other key is stored
 * as it is, so rows stay readable with psql and `key = '...'` still finds them.
 */
final class KeyColumn {
  private static final char NUL = '\u0000';
  private static final char ESC = '\u0001';

  private KeyColumn() {}

  static String toColumn(String key) {
    if (key.indexOf(NUL) < 0 && key.indexOf(ESC) < 0) return key;
    StringBuilder sb = new StringBuilder(key.length() + 8);
    for (int i = 0; i < key.length(); i++) {
      char ch = key.charAt(i);
      if (ch == NUL) sb.append(ESC).append('0');
      else if (ch == ESC) sb.append(ESC).append('1');
      else sb.append(ch);
    }
    return sb.toString();
  }

  static String fromColumn(String text) {
    if (text.indexOf(ESC) < 0) return text;
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch != ESC) {
        sb.append(ch);
        continue;
      }
      // Only this class writes the escape, always followed by '0' or '1'.
      char next = ++i < text.length() ? text.charAt(i) : '?';
      if (next == '0') sb.append(NUL);
      else if (next == '1') sb.append(ESC);
      else throw new IllegalArgumentException("stored key with a broken escape at " + (i - 1) + ": " + text);
    }
    return sb.toString();
  }
}
