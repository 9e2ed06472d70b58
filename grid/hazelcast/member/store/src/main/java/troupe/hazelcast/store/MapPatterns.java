package troupe.hazelcast.store;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A comma-separated list of map names with `*` wildcards, as Hazelcast map
 * configs use them (`troupe.actor.*,troupe.map.troupe.sagas`). Which maps are
 * stored, versioned and preloaded is decided by three such lists, so a new
 * family of maps (`troupe.wake.*`) is one more entry in hazelcast.xml, not code.
 */
final class MapPatterns {
  private final List<Pattern> patterns;
  private final String text;

  private MapPatterns(List<Pattern> patterns, String text) {
    this.patterns = patterns;
    this.text = text;
  }

  static MapPatterns parse(String text) {
    List<Pattern> out = new ArrayList<>();
    String cleaned = text == null ? "" : text.trim();
    for (String part : cleaned.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) continue;
      StringBuilder re = new StringBuilder();
      int start = 0;
      for (int i = 0; i <= p.length(); i++) {
        if (i < p.length() && p.charAt(i) != '*') continue;
        if (i > start) re.append(Pattern.quote(p.substring(start, i)));
        if (i < p.length()) re.append(".*");
        start = i + 1;
      }
      out.add(Pattern.compile(re.toString()));
    }
    return new MapPatterns(List.copyOf(out), cleaned);
  }

  boolean matches(String mapName) {
    for (Pattern p : patterns) if (p.matcher(mapName).matches()) return true;
    return false;
  }

  @Override
  public String toString() {
    return text;
  }
}
