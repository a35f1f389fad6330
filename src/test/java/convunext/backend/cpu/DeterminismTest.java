package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Same inputs → same bits, whatever runs them: the Vector API or the scalar fallback, a vector
 * body or a scalar tail, interpreted or JIT-compiled code, one thread or many. And FloatMath, the
 * piece that makes it so, is accurate.
 */
class DeterminismTest {

    /** FloatMath.exp within 2 ulp of e^x over its whole domain (measured worst: see the message). */
    @Test void expIsAccurate() {
        double worst = 0;
        for (int i = 0; i <= 2_000_000; i++) {
            float x = FloatMath.EXP_LO + (FloatMath.EXP_HI - FloatMath.EXP_LO) * i / 2_000_000f;
            double want = StrictMath.exp(x);
            worst = Math.max(worst, Math.abs(FloatMath.exp(x) - want) / Math.ulp((float) want));
        }
        assertTrue(worst <= 2, "exp: worst error " + worst + " ulp");
        assertEquals(1f, FloatMath.exp(0f));
        assertEquals(0f, FloatMath.exp(-1000f), "below EXP_LO: 0");
        assertTrue(Float.isNaN(FloatMath.exp(Float.NaN)));
    }

    /** tanh within 3 ulp (relative 4e-7 near zero, where the odd polynomial takes over). */
    @Test void tanhAndSigmoidAreAccurate() {
        double worstT = 0, worstS = 0;
        for (int i = -400_000; i <= 400_000; i++) {
            float x = i / 20_000f;
            double t = StrictMath.tanh(x), s = 1 / (1 + StrictMath.exp(-x));
            if (t != 0) worstT = Math.max(worstT, Math.abs(FloatMath.tanh(x) - t) / Math.ulp((float) t));
            worstS = Math.max(worstS, Math.abs(FloatMath.sigmoid(x) - s) / Math.ulp((float) s));
            assertEquals(1 - s, FloatMath.sigmoidNeg(x), 3 * Math.ulp((float) (1 - s)), "σ(−x) at " + x);
        }
        assertTrue(worstT <= 3, "tanh: worst " + worstT + " ulp");
        assertTrue(worstS <= 3, "σ: worst " + worstS + " ulp");
    }

    private static float[] wide(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() < 0.05 ? 40 * r.nextGaussian() : 2.5 * r.nextGaussian());
        a[1] = 0f; a[2] = -0f; a[3] = 1e-30f; a[4] = -13.5f; a[5] = 95f; a[6] = -120f;
        // where exp's argument (−x²/2, −|x|, −2|x|) crosses EXP_LO, and what no clamp may change
        float[] edge = {13.2137f, -13.2136f, 43.65f, -43.66f, 87.3f, -87.31f, Float.NaN, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 1e30f, -1e30f, Float.MIN_VALUE};
        System.arraycopy(edge, 0, a, 7, edge.length);
        return a;
    }

    /** Vector body, scalar tail and the no-Vector-API fallback give the same bits, at any split. */
    @Test void vectorScalarAndTailAgreeBitForBit() {
        Random r = new Random(71);
        int n = 1237;
        float[] x = wide(r, n + 7), s = wide(r, n + 5), g = wide(r, 2 * n + 11), d = wide(r, n + 3);
        List<float[]> runs = new ArrayList<>();
        for (SimdOps ops : List.of(SimdOps.BEST, new ScalarOps())) {
            for (int cut : new int[] {n, 1, 17, 601}) {   // the same elements in pieces: other tails
                float[] y = new float[n], dx = new float[n], out = new float[n], yg = new float[n], sg = new float[n];
                float[] da = new float[n], ds = new float[n], dg1 = new float[n], dg2 = new float[n];
                for (int[] p : new int[][] {{0, cut}, {cut, n}}) {
                    int o = p[0], len = p[1] - p[0];
                    if (len <= 0) continue;
                    ops.gelu(x, 7 + o, y, o, len);
                    ops.geluBackward(x, 7 + o, d, 3 + o, dx, o, len);
                    ops.geluWithGrad(x, 7 + o, yg, o, sg, o, len);
                    ops.gateOut(x, 7 + o, s, 5 + o, g, 11 + o, 11 + n + o, out, o, len);
                    float[] dgAll = new float[2 * n];
                    ops.gateOutBackward(x, 7 + o, s, 5 + o, g, 11 + o, 11 + n + o, d, 3 + o, da, o, ds, o, dgAll, o, n + o, len);
                    System.arraycopy(dgAll, o, dg1, o, len);
                    System.arraycopy(dgAll, n + o, dg2, o, len);
                }
                float[] all = new float[9 * n];
                int k = 0;
                for (float[] a : List.of(y, dx, out, da, ds, dg1, dg2, yg, sg)) { System.arraycopy(a, 0, all, k, n); k += n; }
                runs.add(all);
            }
        }
        for (int i = 1; i < runs.size(); i++) assertArrayEquals(runs.get(0), runs.get(i), "run " + i + " differs from run 0");
    }

    private static Map<String, Long> digests(int scale) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Map.Entry<String, Supplier<Long>> e : OpDigests.ops(scale).entrySet()) m.put(e.getKey(), e.getValue().get());
        return m;
    }

    /**
     * Every op's output in a JIT-warmed JVM equals the one of an interpreter-only JVM (-Xint) on
     * the same inputs: what broke run-to-run reproducibility was Vector API exp/tanh rounding
     * differently before and after C2 compiled them.
     */
    @Test void interpretedEqualsCompiled() throws IOException, InterruptedException {
        var ops = OpDigests.ops(1);
        for (int i = 0; i < 400; i++) for (Supplier<Long> op : ops.values()) op.get();   // warm: C2 compiles the hot ops
        Map<String, Long> warm = digests(1);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xint", "-Xss8m"));
        if (GemmKernels.vectorAvailable()) cmd.addAll(List.of("--add-modules", "jdk.incubator.vector"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), OpDigests.class.getName(), "1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the -Xint JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        Map<String, Long> cold = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int sp = line.lastIndexOf(' ');
            if (sp > 0 && warm.containsKey(line.substring(0, sp))) cold.put(line.substring(0, sp), Long.parseUnsignedLong(line.substring(sp + 1).trim(), 16));
        }
        assertEquals(warm.keySet(), cold.keySet(), out);
        for (String k : warm.keySet()) assertEquals(warm.get(k), cold.get(k), k + ": interpreted and compiled results differ");
    }

    /** One thread and all threads give the same bits for every op (shapes large enough to split). */
    @Test void threadCountDoesNotChangeResults() {
        int all = CpuThreads.threads();
        Assumptions.assumeTrue(all > 1, "one processor: nothing to compare");
        Map<String, Long> one;
        try {
            CpuThreads.setThreads(1);
            one = digests(3);
        } finally {
            CpuThreads.setThreads(all);
        }
        Map<String, Long> many = digests(3);
        for (String k : one.keySet()) assertEquals(one.get(k), many.get(k), k + ": 1 vs " + all + " threads differ");
    }
}
