package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The baseline column's table and JSON, from a report built by hand (no GPU here): shown only when
 * some row has a baseline, ratio = ours / baseline, the excluded time and the note in both.
 */
class BaselineColumnTest {
    static Row row(String op, String pass, double ms, Baseline b) {
        return new Row(op, "level0 block", pass, "4×32×480×480", ms, ms * 0.9, OpCost.dwconv7(4, 32, 480L * 480), b);
    }

    static BenchReport report(List<Row> rows, String status) {
        Ceilings c = new Ceilings(new Row("copy", "ceiling", "-", "1", 1.0, 1.0, OpCost.copy(1L << 24)),
                new Row("linear", "ceiling", "fwd", "x", 1.0, 1.0, OpCost.linear(1, 256, 256, 1L << 16)));
        ModelBench.Result m = new ModelBench.Result(1000, new double[]{5}, new double[]{2}, 0.5, 1 << 20, 1 << 30, "note", Map.of(), null);
        return new BenchReport("cuda", "a GPU", "CUDA events", "bench --layers", BenchConfig.gpu(), c, rows, status, m, null, null);
    }

    static String print(BenchReport r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        r.print(new PrintStream(b, true));
        return b.toString();
    }

    @Test void columnsAppearWithABaseline() {
        Baseline b = new Baseline("cuDNN 9.1.0", 0.5, 0.45, 0.125, "conv + bias add; excl. reflect pad 0.125 ms (ours)");
        BenchReport r = report(List.of(row("dwconv7", "fwd", 0.75, b), row("gelu", "fwd", 0.3, null)), "ours/base = …; cuDNN 9.1.0 …");
        assertEquals(1.5, r.rows().get(0).ratioToBaseline(), 1e-12);
        assertTrue(Double.isNaN(r.rows().get(1).ratioToBaseline()));
        String out = print(r);
        assertTrue(out.contains(BenchReport.HEADER_BASE), out);
        assertTrue(out.contains("    0.500      1.50  cuDNN 9.1.0: conv + bias add; excl. reflect pad 0.125 ms (ours)"), out);
        assertTrue(out.contains("baseline  ours/base = …; cuDNN 9.1.0 …"), out);
        @SuppressWarnings("unchecked") List<Map<String, Object>> rows = (List<Map<String, Object>>) r.toJson().get("rows");
        Map<String, Object> j = rows.get(0);
        assertEquals("cuDNN 9.1.0", j.get("baseline"));
        assertEquals(0.5, (Double) j.get("baseline_ms"), 1e-12);
        assertEquals(0.45, (Double) j.get("baseline_min_ms"), 1e-12);
        assertEquals(0.125, (Double) j.get("baseline_extra_ms"), 1e-12);
        assertEquals(1.5, (Double) j.get("ratio_ours_over_baseline"), 1e-12);
        assertFalse(rows.get(1).containsKey("baseline_ms"));
        assertEquals("ours/base = …; cuDNN 9.1.0 …", r.toJson().get("baseline_status"));
    }

    @Test void noColumnsWithoutABaselineAndTheTableIsUnchanged() {
        Row plain = row("dwconv7", "fwd", 0.75, null);
        BenchReport r = report(List.of(plain), "none ran: cuDNN not available: why");
        String out = print(r);
        assertFalse(out.contains("ours/base"), out);
        assertTrue(out.contains(BenchReport.HEADER + "\n") || out.contains(BenchReport.HEADER + System.lineSeparator()), out);
        assertTrue(out.contains("baseline  none ran: cuDNN not available: why"), out);
        // A row without a baseline prints exactly as before the column existed.
        String line = BenchReport.format(plain, r.ceilings());
        assertTrue(line.endsWith("  " + plain.bound(r.ceilings())), line);
        assertFalse(line.endsWith(" "), "trailing blanks: '" + line + "'");
    }
}
