package convunext.io;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared Jackson configuration: what our files look like and what parsing gives back. */
class JsonTest {
    @Test void nonFiniteNumbersBecomeNullAndEscapesAreJson() {
        assertEquals("[1,0.5,null,-3.0,1.0E-7,\"\\u0001\\t\"]", Json.write(List.of(1, 0.5, Double.NaN, -3.0, 1e-7, "\u0001\t")));
        assertEquals("[\n  0.25,\n  null,\n  1.0\n]\n", Json.pretty(new double[] {0.25, Double.POSITIVE_INFINITY, 1}));
        assertEquals("[null,2.5]", Json.write(new float[] {Float.NaN, 2.5f}));
        assertEquals("{\"x\":null}", Json.write(Map.of("x", Float.NEGATIVE_INFINITY)));
    }

    @Test void prettyIsIndentedAndKeepsOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("z", 1);
        m.put("a", Map.of("k", List.of(1, 2)));
        assertEquals("{\n  \"z\": 1,\n  \"a\": {\n    \"k\": [\n      1,\n      2\n    ]\n  }\n}\n", Json.pretty(m));
    }

    @Test void parsingKeepsOrderIntegersAsLongAndRefusesDuplicates() {
        Object o = Json.parse("{\"b\": 1, \"a\": [2.5, \"s\", null, true]}");
        Map<?, ?> m = (Map<?, ?>) o;
        assertEquals(List.of("b", "a"), List.copyOf(m.keySet()));
        assertEquals(1L, m.get("b"));
        assertEquals(java.util.Arrays.asList(2.5, "s", null, true), m.get("a"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": 1, \"a\": 2}"));
        assertTrue(e.getMessage().contains("Duplicate field 'a'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": NaN}"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.parse("[1, 2"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    /** The bench JSON is read back by bench/perf_table.py: the same document must round-trip. */
    @Test void benchResultsRoundTrip() throws Exception {
        try (var s = java.nio.file.Files.list(java.nio.file.Path.of("bench/results"))) {
            for (java.nio.file.Path f : s.filter(p -> p.toString().endsWith(".json")).toList()) {
                Object a = Json.parse(java.nio.file.Files.readString(f));
                assertEquals(a, Json.parse(Json.write(a)), f.toString());
            }
        }
    }
}
