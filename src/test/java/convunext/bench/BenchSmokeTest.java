package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.Op;
import convunext.backend.cpu.CpuBackend;
import convunext.cli.Main;
import convunext.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny preset on the CPU backend produces every row, with positive times, in the table and the
 * JSON; there and on the emulated device the baseline column is absent with a one-line reason.
 */
class BenchSmokeTest {
    /** Every row, by "op layer pass": the bench rows of the op registry. */
    static final List<String> EXPECTED = Op.allBenchRowIds();

    @Test void tinyPresetProducesEveryRow() {
        BenchReport r = Bench.run(new CpuBackend(), BenchConfig.tiny(), true, true, "test", null);
        Set<String> ids = new HashSet<>();
        for (Row row : r.rows()) {
            assertTrue(ids.add(row.id()), "duplicate row " + row.id());
            assertTrue(row.medianMs() > 0 && row.minMs() > 0 && row.minMs() <= row.medianMs(), row.id() + ": " + row);
            assertTrue(row.cost().bytes() > 0, row.id() + " moves no bytes");
            assertTrue(Double.isFinite(row.pctRoofline(r.ceilings())) && row.pctRoofline(r.ceilings()) > 0, row.id());
        }
        assertEquals(new HashSet<>(EXPECTED), ids);
        assertTrue(r.ceilings().bytesPerS() > 0 && r.ceilings().flopsPerS() > 0);
        assertEquals(65_594, r.model().params());   // base_c 4, 3 inputs, 2 classes (PyTorch counts the same)
        assertTrue(r.model().trainMedianMs() > 0 && r.model().inferMedianMs() > 0);
        assertTrue(Double.isFinite(r.model().lastLoss()) && r.model().lastLoss() > 0);
        assertTrue(r.model().peakHeapBytes() > 0);
        assertTrue(r.model().stepAllocBytes() >= 0 && r.model().inferAllocBytes() >= 0);   // measured (-1: not)
        assertTrue(r.model().breakdown().containsKey("dwconv7 +bn bwd"), r.model().breakdown().keySet().toString());
        // the folded model's inference: forward ops only, the MLP among them
        var infer = r.model().inferBreakdown().keySet();
        assertTrue(infer.stream().anyMatch(k -> k.startsWith("mlp")), infer.toString());
        assertTrue(infer.stream().noneMatch(k -> k.endsWith("bwd") || k.equals("adamw")), infer.toString());
    }

    @Test void commandWritesTableAndJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("b.json");
        PrintStream o = System.out;
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true));
        int code;
        try {
            code = Main.execute("bench", "--device", "cpu", "--tiny", "--layers", "--reps", "1", "--steps", "1", "--json", json.toString());
        } finally {
            System.setOut(o);
        }
        String out = bo.toString();
        assertEquals(0, code, out);
        for (String id : EXPECTED) assertTrue(out.contains(id.substring(0, id.indexOf(' '))), id + " missing in\n" + out);
        assertTrue(out.contains("images/s"), out);
        @SuppressWarnings("unchecked")
        Map<String, Object> j = (Map<String, Object>) Json.parse(Files.readString(json));
        assertEquals("cpu", j.get("backend"));
        assertFalse(((Map<?, ?>) j.get("model")).containsKey("peak_device_bytes"), "heap tensors have no device peak");
        assertEquals("wall clock between syncs", j.get("timing"));
        assertEquals(EXPECTED.size(), ((List<?>) j.get("rows")).size());
        for (Object row : (List<?>) j.get("rows")) {
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) row;
            assertTrue(((Number) m.get("median_ms")).doubleValue() > 0, m.toString());
            assertNotNull(m.get("pct_roofline"), m.toString());
        }
        @SuppressWarnings("unchecked") Map<String, Object> model = (Map<String, Object>) j.get("model");
        assertTrue(((Number) model.get("train_step_ms")).doubleValue() > 0);
        assertTrue(((String) j.get("command")).startsWith("bench --device cpu --tiny"), (String) j.get("command"));
        String why = "none ran: cuDNN and cuBLAS need the cuda backend on a GPU (this is cpu)";
        assertNoBaseline(out, j, why);
    }

    /** The emulated device has neither cuDNN nor cuBLAS: no baseline column, one line with both reasons. */
    @Test void emulatedDeviceReportsTheBaselineUnavailable(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("e.json");
        PrintStream o = System.out;
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true));
        int code;
        try {
            code = Main.execute("bench", "--device", "emulated", "--tiny", "--layers", "--reps", "1", "--warmup", "0", "--steps", "1",
                    "--json", json.toString());
        } finally {
            System.setOut(o);
        }
        String out = bo.toString();
        assertEquals(0, code, out);
        @SuppressWarnings("unchecked")
        Map<String, Object> j = (Map<String, Object>) Json.parse(Files.readString(json));
        assertEquals("emulated", j.get("backend"));
        // Device memory high-water: at least the parameters (fp32) are in use, and the pool holds no less.
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) j.get("model");
        double inUse = ((Number) model.get("peak_device_bytes")).doubleValue();
        double reserved = ((Number) model.get("peak_device_reserved_bytes")).doubleValue();
        assertTrue(inUse >= 4.0 * ((Number) model.get("params")).doubleValue(), "peak in use " + inUse);
        assertTrue(reserved >= inUse, "reserved " + reserved + " < in use " + inUse);
        assertTrue(out.contains("device    peak "), out);
        assertTrue(String.valueOf(j.get("timing")).contains("events"), "timing " + j.get("timing"));
        assertEquals(EXPECTED.size(), ((List<?>) j.get("rows")).size());
        assertNoBaseline(out, j, "none ran: cuDNN not available: the emulated device has no cuDNN (a GPU is needed); "
                + "cuBLAS not used: the emulated device has no cuBLAS (a GPU is needed)");
    }

    private static void assertNoBaseline(String out, Map<String, Object> j, String why) {
        assertEquals(why, j.get("baseline_status"));
        assertTrue(out.contains("\nbaseline  " + why + "\n") || out.contains("\nbaseline  " + why + System.lineSeparator()), out);
        assertFalse(out.contains("ours/base"), "baseline columns without a baseline:\n" + out);
        for (Object row : (List<?>) j.get("rows"))
            assertFalse(((Map<?, ?>) row).containsKey("baseline_ms"), row.toString());
    }

    @Test void badShapeIsUsageError() {
        PrintStream e = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true));
        try {
            assertEquals(Main.BAD_INPUT, Main.execute("bench", "--device", "cpu", "--size", "32"));
        } finally {
            System.setErr(e);
        }
    }
}
