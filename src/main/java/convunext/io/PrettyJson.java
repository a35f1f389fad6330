package convunext.io;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Indented JSON for reports (summary.json, bench JSON); {@link Json} reads JSON and writes the
 * compact form safetensors headers use. A minimal serialiser (no library allowed): Map (keys in iteration order, use a
 * LinkedHashMap), Collection, arrays of double/int/long, Number, Boolean, String, null.
 * Non-finite doubles become null (JSON has no NaN).
 */
public final class PrettyJson {
    private PrettyJson() {}

    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        value(b, value, 0);
        return b.append('\n').toString();
    }

    private static void value(StringBuilder b, Object v, int indent) {
        if (v == null) b.append("null");
        else if (v instanceof String s) string(b, s);
        else if (v instanceof Boolean x) b.append(x);
        else if (v instanceof Double || v instanceof Float) number(b, ((Number) v).doubleValue());
        else if (v instanceof Number x) b.append(x.longValue());
        else if (v instanceof Map<?, ?> m) object(b, m, indent);
        else if (v instanceof Collection<?> c) array(b, c.toArray(), indent);
        else if (v instanceof double[] a) { Object[] o = new Object[a.length]; for (int i = 0; i < a.length; i++) o[i] = a[i]; array(b, o, indent); }
        else if (v instanceof float[] a) { Object[] o = new Object[a.length]; for (int i = 0; i < a.length; i++) o[i] = (double) a[i]; array(b, o, indent); }
        else if (v instanceof int[] a) { Object[] o = new Object[a.length]; for (int i = 0; i < a.length; i++) o[i] = a[i]; array(b, o, indent); }
        else if (v instanceof long[] a) { Object[] o = new Object[a.length]; for (int i = 0; i < a.length; i++) o[i] = a[i]; array(b, o, indent); }
        else if (v instanceof Object[] a) array(b, a, indent);
        else throw new IllegalArgumentException("Json: cannot serialise " + v.getClass().getName());
    }

    private static void number(StringBuilder b, double d) {
        if (!Double.isFinite(d)) { b.append("null"); return; }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d);
        else b.append(String.format(Locale.ROOT, "%.10g", d).replaceFirst("\\.?0+(e|$)", "$1"));
    }

    private static void object(StringBuilder b, Map<?, ?> m, int indent) {
        if (m.isEmpty()) { b.append("{}"); return; }
        b.append("{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            pad(b, indent + 1);
            string(b, String.valueOf(e.getKey()));
            b.append(": ");
            value(b, e.getValue(), indent + 1);
            if (++i < m.size()) b.append(',');
            b.append('\n');
        }
        pad(b, indent);
        b.append('}');
    }

    private static void array(StringBuilder b, Object[] a, int indent) {
        boolean flat = true;
        for (Object o : a) flat &= !(o instanceof Map || o instanceof Collection || o instanceof Object[]);
        b.append('[');
        for (int i = 0; i < a.length; i++) {
            if (!flat) { b.append('\n'); pad(b, indent + 1); }
            value(b, a[i], indent + 1);
            if (i + 1 < a.length) b.append(flat ? ", " : ",");
        }
        if (!flat && a.length > 0) { b.append('\n'); pad(b, indent); }
        b.append(']');
    }

    private static void pad(StringBuilder b, int indent) { b.append("  ".repeat(indent)); }

    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
