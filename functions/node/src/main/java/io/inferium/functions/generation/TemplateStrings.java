package io.inferium.functions.generation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The few Python {@code str} and {@code dict} methods Hugging Face chat templates call
 * ({@code content.strip()}, {@code content.startswith('<tool>')}, {@code d.items()}, …), with
 * Python's meaning, implemented here instead of reaching Java's methods of the same object by
 * reflection. Every result is bounded by the render's output limit before it is built.
 */
final class TemplateStrings {

  /** The methods a template may call on a string. */
  static final java.util.Set<String> STRING_METHODS = java.util.Set.of("strip", "lstrip", "rstrip", "startswith",
      "endswith", "upper", "lower", "title", "capitalize", "replace", "split", "join", "find", "count");

  /** The methods a template may call on a mapping. */
  static final java.util.Set<String> MAP_METHODS = java.util.Set.of("get", "items", "keys", "values");

  private TemplateStrings() {}

  static Object call(String s, String method, Object[] args, long maxChars) {
    return switch (method) {
      case "strip" -> rstrip(lstrip(s, arg(args, 0)), arg(args, 0));
      case "lstrip" -> lstrip(s, arg(args, 0));
      case "rstrip" -> rstrip(s, arg(args, 0));
      case "startswith" -> affix(s, args, true);
      case "endswith" -> affix(s, args, false);
      case "upper" -> s.toUpperCase(Locale.ROOT);
      case "lower" -> s.toLowerCase(Locale.ROOT);
      case "title" -> title(s);
      case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
      case "replace" -> replace(s, str(args, 0), str(args, 1), args.length > 2 ? count(args[2]) : -1, maxChars);
      case "split" -> split(s, arg(args, 0), args.length > 1 ? count(args[1]) : -1);
      case "join" -> join(s, args.length > 0 ? args[0] : null, maxChars);
      case "find" -> (long) s.indexOf(str(args, 0));
      case "count" -> count(s, str(args, 0));
      default -> throw new IllegalStateException(method);
    };
  }

  static Object call(Map<?, ?> map, String method, Object[] args) {
    return switch (method) {
      case "get" -> map.containsKey(args.length > 0 ? args[0] : null) ? map.get(args[0]) : (args.length > 1 ? args[1] : null);
      case "items" -> new ArrayList<>(map.entrySet());
      case "keys" -> new ArrayList<>(map.keySet());
      case "values" -> new ArrayList<>(map.values());
      default -> throw new IllegalStateException(method);
    };
  }

  /** {@code s.replace(old, new[, count])} refusing a result longer than {@code maxChars}. */
  static String replace(String s, String old, String replacement, long count, long maxChars) {
    if (old.isEmpty()) {
      // Python inserts the replacement between every character (and at both ends).
      long slots = Math.min(count < 0 ? Long.MAX_VALUE : count, s.length() + 1L);
      checkLength(s.length() + slots * replacement.length(), maxChars);
      StringBuilder b = new StringBuilder();
      for (int i = 0; i <= s.length(); i++) {
        if (i < slots) {
          b.append(replacement);
        }
        if (i < s.length()) {
          b.append(s.charAt(i));
        }
      }
      return b.toString();
    }
    long hits = Math.min(count(s, old), count < 0 ? Long.MAX_VALUE : count);
    checkLength(s.length() + hits * (replacement.length() - (long) old.length()), maxChars);
    StringBuilder b = new StringBuilder();
    int from = 0;
    for (long n = 0; n < hits; n++) {
      int at = s.indexOf(old, from);
      b.append(s, from, at).append(replacement);
      from = at + old.length();
    }
    return b.append(s, from, s.length()).toString();
  }

  private static void checkLength(long length, long maxChars) {
    if (length > maxChars) {
      throw new TemplateSandbox.Violation("a string of " + length + " characters exceeds the limit of " + maxChars);
    }
  }

  private static String arg(Object[] args, int i) {
    return args.length > i && args[i] != null ? args[i].toString() : null;
  }

  private static String str(Object[] args, int i) {
    if (args.length <= i || args[i] == null) {
      throw new IllegalArgumentException("missing argument " + (i + 1));
    }
    return args[i].toString();
  }

  private static long count(Object n) {
    return n instanceof Number num ? num.longValue() : Long.parseLong(n.toString());
  }

  private static long count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.length() + 1L;
    }
    long n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
      n++;
    }
    return n;
  }

  private static boolean strippable(char c, String chars) {
    return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
  }

  private static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length() && strippable(s.charAt(i), chars)) {
      i++;
    }
    return s.substring(i);
  }

  private static String rstrip(String s, String chars) {
    int i = s.length();
    while (i > 0 && strippable(s.charAt(i - 1), chars)) {
      i--;
    }
    return s.substring(0, i);
  }

  private static boolean affix(String s, Object[] args, boolean prefix) {
    Object what = args.length > 0 ? args[0] : null;
    Collection<?> options = what instanceof Collection<?> c ? c : java.util.Collections.singletonList(what);
    for (Object o : options) {
      if (o != null && (prefix ? s.startsWith(o.toString()) : s.endsWith(o.toString()))) {
        return true;
      }
    }
    return false;
  }

  private static String title(String s) {
    StringBuilder b = new StringBuilder(s.length());
    boolean start = true;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      b.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
      start = !Character.isLetter(c);
    }
    return b.toString();
  }

  private static List<String> split(String s, String sep, long max) {
    List<String> parts = new ArrayList<>();
    long limit = max < 0 ? Long.MAX_VALUE : max;
    if (sep == null) {
      int i = 0;
      while (true) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
          i++;
        }
        if (i >= s.length()) {
          return parts;
        }
        if (parts.size() >= limit) {
          parts.add(s.substring(i));
          return parts;
        }
        int j = i;
        while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
          j++;
        }
        parts.add(s.substring(i, j));
        i = j;
      }
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int from = 0;
    for (int at = s.indexOf(sep); at >= 0 && parts.size() < limit; at = s.indexOf(sep, from)) {
      parts.add(s.substring(from, at));
      from = at + sep.length();
    }
    parts.add(s.substring(from));
    return parts;
  }

  private static String join(String sep, Object items, long maxChars) {
    Iterable<?> list = items instanceof Iterable<?> it ? it : List.of();
    StringBuilder b = new StringBuilder();
    boolean first = true;
    for (Object o : list) {
      if (!first) {
        b.append(sep);
      }
      first = false;
      b.append(o);
      checkLength(b.length(), maxChars);
    }
    return b.toString();
  }
}
