package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;

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
    /** Every row the issue asks for, by "op layer pass". */
    static final List<String> EXPECTED = List.of(
            "conv2d stem 7x7 reflect fwd", "conv2d stem 7x7 reflect bwd", "conv2d down1 2x2 s2 fwd", "conv2d down1 2x2 s2 bwd",
            "dwconv7 level0 block fwd", "dwconv7 level0 block bwd",
            "batchnorm level0 fwd", "batchnorm level0 bwd", "batchnorm level0 eval", "layernorm level0 fwd", "layernorm level0 bwd",
            "linear pwconv1 C→4C fwd", "linear pwconv1 C→4C bwd", "gelu after pwconv1 fwd", "gelu after pwconv1 bwd",
            "linear pwconv2 4C→C fwd", "linear pwconv2 4C→C bwd", "add block residual fwd",
            "addGelu block residual+GELU fwd", "addGelu block residual+GELU infer",
            "linearGelu pwconv1+GELU C→4C fwd", "linearGelu pwconv1+GELU C→4C infer",
            "linearBackwardDataGelu pwconv2 dx·GELU' bwd",
            "gate up4 gateIn fwd", "gate up4 gateIn bwd", "gate up4 gateOut fwd", "gate up4 gateOut bwd",
            "upsample2x up4 fwd", "upsample2x up4 bwd", "concat up4 cat fwd", "concat up4 cat bwd",
            "ce_dice loss fwd+bwd", "adamw all parameters step");

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
        assertTrue(r.model().breakdown().containsKey("dwconv7 bwd"), r.model().breakdown().keySet().toString());
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
