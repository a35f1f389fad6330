package convunext.bench;

import static org.junit.jupiter.api.Assertions.*;

import convunext.backend.cpu.CpuBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench --anchors} without any anchor to run (no anchor jar, no OpenBLAS): ours still runs
 * every round, each round carries the GEMM ceiling measured around our run and the step's and
 * inference's floor ratios against it, the summary gives their medians, and the report prints the
 * per-round line. The ratios are the round's own: our median ms over the MAC FLOPs at that round's
 * ceiling (checked from the per-round lists, not from the printed text).
 */
class AnchorsFloorTest {
    @SuppressWarnings("unchecked")
    @Test void perRoundCeilingsAndFloorRatios(@TempDir Path dir) {
        BenchConfig cfg = BenchConfig.tiny();
        CpuBackend be = new CpuBackend();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> a = Anchors.run(be, cfg, new Anchors.Options(3, false, "python3-absent", dir.resolve("none.pt"),
                dir.resolve("no-anchor"), dir.resolve("work"), dir.resolve("no-openblas").toString(), 1),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        List<Object> engines = (List<Object>) a.get("engines");
        Map<String, Object> ours = (Map<String, Object>) engines.get(0);
        assertEquals("ours", ours.get("id"));
        List<Object> ceil = (List<Object>) ours.get("gemm_ceiling_gflop_s_per_round"), tr = (List<Object>) ours.get("floor_ratio_train_per_round");
        List<Object> train = (List<Object>) ours.get("train_step_ms_per_round"), inf = (List<Object>) ours.get("floor_ratio_infer_per_round");
        List<Object> inferMs = (List<Object>) ours.get("infer_ms_per_round");
        assertEquals(3, ceil.size());
        double flops = ((Number) a.get("train_step_mac_flops")).doubleValue(), iflops = ((Number) a.get("infer_mac_flops")).doubleValue();
        assertTrue(flops > 0 && iflops > 0 && iflops < flops);
        double[] r = new double[3];
        for (int i = 0; i < 3; i++) {
            double g = ((Number) ceil.get(i)).doubleValue() * 1e9;
            assertTrue(g > 0, "round " + i + " ceiling " + g);
            r[i] = ((Number) tr.get(i)).doubleValue();
            assertEquals(((Number) train.get(i)).doubleValue() / (flops / g * 1e3), r[i], 1e-9 * r[i], "round " + i + " step floor ratio");
            assertEquals(((Number) inferMs.get(i)).doubleValue() / (iflops / g * 1e3), ((Number) inf.get(i)).doubleValue(), 1e-9 * r[i] + 1e-12,
                    "round " + i + " inference floor ratio");
        }
        Arrays.sort(r);
        assertEquals(r[1], ((Number) ours.get("floor_ratio_train")).doubleValue(), 0, "median of the rounds");
        Map<String, Object> lt = (Map<String, Object>) engines.get(1);
        assertTrue(String.valueOf(lt.get("error")).contains("missing"), "the absent anchor says why: " + lt.get("error"));
        assertFalse(lt.containsKey("floor_ratio_train"), "floor ratios are ours only");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Bench.run(be, cfg, false, false, "test", null).withAnchors(a).print(new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains(String.format("step %.2f× (median; rounds ", r[1])), "the per-round line in the report:\n" + text);
    }
}
