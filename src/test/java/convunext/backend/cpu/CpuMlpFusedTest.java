package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuMlp's backward with dpre never in memory (pwconv1's backward through
 * CpuLinearBwd with dpre computed block by block) gives exactly the unfused path's bits — dx, dW1,
 * db1, dW2, db2 — at the level-0 shape, at odd pixel counts (a ragged last 512-pixel block, scalar
 * tails of the dot and sum bodies, two 4096-pixel K blocks, three images), without biases, at 1
 * and 2 threads, with pwconv2's dW2 and db2 made in the same pass (CpuLinearBwd.Second) or, for
 * output counts not a multiple of 4, apart; and it is taken exactly where CpuLinearBwd applies. Values against float64 are
 * CpuMlpTest's and MlpParityTest's.
 */
class CpuMlpFusedTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void modelShapes() {
        check(2, 32, 128, 32, 256, 256, true, 1, true);    // level 0
        check(2, 64, 256, 64, 128, 128, true, 7, true);    // level 1: 1 MiB of parked accumulators
    }

    @Test void oddPixelCounts() {
        check(2, 32, 128, 32, 45, 47, true, 2, true);     // 2115 pixels: partial block, tails of 3
        check(3, 8, 32, 12, 67, 67, true, 3, true);       // 4489 pixels: two K blocks, three images
        check(2, 4, 16, 4, 25, 41, false, 4, true);       // 1025 pixels, no biases
        check(2, 8, 32, 6, 33, 35, true, 9, true);        // pwconv2's 6 outputs: dW2 outside the pass
    }

    @Test void unfusedWherePreconditionsFail() {
        check(2, 128, 512, 128, 40, 40, true, 5, false);   // level-2 channels: 4 MiB of accumulators
        check(2, 6, 24, 6, 30, 30, true, 6, false);        // channels not a multiple of 4
        check(2, 8, 32, 8, 20, 20, true, 8, false);        // 400 pixels: below the dot path's K
    }

    private static void check(int n, int c, int hd, int co, int h, int w, boolean bias, long seed, boolean fused) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w), w1 = CpuTestTensors.randn(BE, r, 0, hd, c);
        Tensor w2 = CpuTestTensors.randn(BE, r, 0, co, hd), gy = CpuTestTensors.randn(BE, r, 0, n, co, h, w);
        Tensor b1 = bias ? CpuTestTensors.randn(BE, r, 0.1, hd) : null, b2 = bias ? CpuTestTensors.randn(BE, r, 0.1, co) : null;
        for (int i = 0; i < w1.size(); i++) w1.array()[w1.off() + i] /= (float) Math.sqrt(c);
        Tensor[] f = CpuMlp.forward(BE, x, w1, b1, w2, b2, true, SimdOps.BEST);
        int saved = CpuThreads.threads();
        try {
            for (int t = 1; t <= Math.min(2, saved); t++) {
                CpuThreads.setThreads(t);
                String at = n + "x" + c + "→" + hd + "→" + co + " @" + h + "x" + w + " bias " + bias + " threads " + t;
                boolean applies = CpuLinearBwd.applies(n, c, hd, h * w, CpuMlp.FUSED_MAX_PARKED_BYTES);
                assertEquals(fused && GemmKernels.BEST.dotSpans(), applies, "fused path taken, " + at);
                float[][] ref = run(x, w1, w2, gy, f, bias, false), got = run(x, w1, w2, gy, f, bias, true);
                String[] names = {"dx", "dw1", "db1", "dw2", "db2"};
                for (int k = 0; k < 5; k++) {
                    assertEquals(ref[k] == null, got[k] == null, names[k] + " presence, " + at);
                    if (ref[k] != null) assertArrayEquals(ref[k], got[k], names[k] + " bits, " + at + " (fused path " + applies + ")");
                }
                float m = 0;
                for (float v : ref[1]) m = Math.max(m, Math.abs(v));
                assertTrue(m > 1e-3, "dw1 is not trivially zero, " + at);
            }
        } finally {
            CpuThreads.setThreads(saved);
            CpuMlp.fusedBackward = true;
        }
    }

    private static float[][] run(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor[] f, boolean bias, boolean fused) {
        CpuMlp.fusedBackward = fused;
        Tensor[] g = CpuMlp.backward(BE, x, w1, w2, gy, f[1], f[2], true, bias, bias, SimdOps.BEST);
        float[][] out = new float[5][];
        for (int k = 0; k < 5; k++)
            if (g[k] != null) {
                out[k] = BE.download(g[k]);
                BE.release(g[k]);
            }
        return out;
    }
}
