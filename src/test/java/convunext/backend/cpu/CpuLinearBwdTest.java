package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused linear backward ({@link CpuLinearBwd}) gives exactly the unfused path's bits (dx, dW,
 * db) — same FMA chains, same reduction points, same order of the per-K-block additions — at the
 * model's shapes and at odd ones (pixels not a multiple of the 4096-pixel K block, of the vector
 * width or of the 512-pixel block, several images), at 1 and 2 threads, and that it falls back
 * where its preconditions fail. Values of the unfused path are checked elsewhere (LinearParityTest,
 * CpuGemmTest). Outputs start as NaN so an element left unwritten fails too.
 */
class CpuLinearBwdTest {
    private static final Random RNG = new Random(13);
    private static final boolean VECTOR = GemmKernels.BEST.dotSpans();

    @Test void sameBitsModelShapes() {
        check(2, 32, 96, 256 * 256, true, true);     // gate, level 0
        check(2, 32, 32, 256 * 256, true, true);     // linear1/2, level 0
        check(2, 64, 192, 128 * 128, true, true);    // gate, level 1
        check(2, 64, 64, 128 * 128, true, true);
    }

    @Test void sameBitsOddSizes() {
        check(2, 32, 96, 2 * 4096 + 37, true, true);   // scalar tails of dot and sum, ragged last block
        check(3, 16, 20, 3 * 4096 + 7, true, true);    // several images, K blocks, odd tail
        check(2, 4, 8, 600, true, true);               // p % 16 = 8: dot body to 592, sum body to 576
        check(2, 8, 12, 4096 + 16, true, true);        // last K block all vector, one 16-pixel span
        check(2, 12, 4, 1000, true, true);
        check(3, 4, 4, 512, true, true);               // the smallest dot-path K
        check(2, 32, 96, 2 * 4096 + 37, false, true);  // no bias
    }

    @Test void fallsBackWherePreconditionsFail() {
        check(2, 6, 8, 1000, true, false);        // ci not a multiple of 4: dot edges
        check(2, 8, 10, 1000, true, false);       // co not a multiple of 4
        check(2, 8, 8, 500, true, false);         // K below the dot path's minimum
        check(2, 256, 256, 4096, true, false);    // parked accumulators beyond the bound at any vector width ≥ 4 lanes
        // (co = ci = 128, level 2, is beyond it with 16 lanes, AVX-512, but within it with 8, AVX2: 512 KiB)
        assertEquals(VECTOR && 4L * 128 * 128 * GemmKernels.BEST.dotLanes() <= CpuLinearBwd.MAX_PARKED_BYTES,
                CpuLinearBwd.applies(2, 128, 128, 4096));
        check(2, 256, 768, 1024, true, false);    // gate, level 3
    }

    /** 1 and 2 threads: fused (when {@code fused} and the vector kernel is there) equals unfused bit for bit. */
    private static void check(int n, int ci, int co, int p, boolean bias, boolean fused) {
        float[] x = rand(n * ci * p), w = rand(co * ci), dy = rand(n * co * p);
        int saved = CpuThreads.threads();
        try {
            for (int t = 1; t <= 2; t++) {
                CpuThreads.setThreads(t);
                String at = "n " + n + " ci " + ci + " co " + co + " p " + p + " bias " + bias + " threads " + CpuThreads.threads();
                // With one item per thread too few (n·K blocks < threads) it falls back as well.
                boolean expect = VECTOR && fused && (long) n * ((p + 4095) / 4096) >= CpuThreads.threads();
                assertEquals(expect, CpuLinearBwd.applies(n, ci, co, p), "applies, " + at);
                float[][] ref = run(n, ci, co, p, x, w, dy, bias, true), got = run(n, ci, co, p, x, w, dy, bias, false);
                String[] names = {"dx", "dw", "db"};
                for (int k = 0; k < 3; k++) same(ref[k], got[k], names[k] + ", " + at);
            }
        } finally {
            CpuThreads.setThreads(saved);
        }
    }

    private static float[][] run(int n, int ci, int co, int p, float[] x, float[] w, float[] dy, boolean bias, boolean unfused) {
        float[] dx = nan(n * ci * p + 3), dw = nan(co * ci + 3), db = bias ? nan(co + 3) : null;
        // Offsets of 1–2 floats: the entry points take array offsets (views).
        float[] xs = shift(x, 1), ws = shift(w, 2), dys = shift(dy, 1);
        if (unfused) CpuLinear.backwardUnfused(n, ci, co, p, xs, 1, ws, 2, dys, 1, dx, 2, dw, 1, db, 1);
        else CpuLinear.backward(n, ci, co, p, xs, 1, ws, 2, dys, 1, dx, 2, dw, 1, db, 1);
        return new float[][] {dx, dw, db == null ? new float[0] : db};
    }

    private static void same(float[] a, float[] b, String what) {
        if (a.length != b.length) fail(what + ": lengths");
        for (int i = 0; i < a.length; i++)
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i]))
                fail(what + ": element " + i + " " + a[i] + " vs " + b[i]);
    }

    private static float[] shift(float[] a, int by) {
        float[] r = new float[a.length + by];
        System.arraycopy(a, 0, r, by, a.length);
        return r;
    }

    private static float[] nan(int len) {
        float[] r = new float[len];
        Arrays.fill(r, Float.NaN);
        return r;
    }

    private static float[] rand(int len) {
        float[] r = new float[len];
        for (int i = 0; i < len; i++) r[i] = (float) RNG.nextGaussian();
        return r;
    }
}
