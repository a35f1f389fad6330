package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuBackend.gateChainCatBackward (CpuGateBwd: the Up block's chain backward, the gate chain and the
 * 1×1 conv over [s2; low], in one pass over pixel blocks) is bit for bit the six ops' backwards one
 * by one (linearCat, linear2, gateOut, linear1, gateIn, the gate linear), in every gradient, at 1
 * thread and at every thread the pool has: one K block with a scalar tail (p % lanes ≠ 0), two K
 * blocks, level 1's width, held gradients for all ten (added into, returned in their place) or
 * none, the skip's not wanted, no biases, a 1×1 conv to another width; the composition (the switch
 * off) likewise; a width whose accumulators do not fit takes the composition.
 */
class CpuGateChainBackwardTest {
    private static final CpuBackend BE = new CpuBackend();
    private static final String[] NAMES = {"dlow", "dskip", "dgw", "dgb", "dw1", "db1", "dw2", "db2", "dwc", "dbc"};

    @Test void levelZeroWidthWithTail() { run(2, 32, 32, 23, 37, true, true, true, 1, true); }

    @Test void twoKBlocksNothingHeld() { run(1, 16, 16, 67, 71, true, false, true, 2, true); }

    @Test void noBiasesSkipNotWanted() { run(3, 8, 12, 29, 31, false, true, false, 3, true); }

    @Test void levelOneWidth() { run(2, 64, 64, 24, 25, true, true, true, 4, true); }

    @Test void widerTakesTheComposition() { run(2, 128, 64, 24, 25, true, true, true, 5, false); }

    private static void run(int n, int c, int co, int h, int w, boolean bias, boolean held, boolean needSkip, long seed,
                            boolean fusedExpected) {
        Random r = new Random(seed);
        Tensor low = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w), skip = CpuTestTensors.randn(BE, r, -0.2, n, c, h, w);
        Tensor gw = CpuTestTensors.randn(BE, r, 0, 3 * c, c), w1 = CpuTestTensors.randn(BE, r, 0, c, c), w2 = CpuTestTensors.randn(BE, r, 0, c, c);
        Tensor wc = CpuTestTensors.randn(BE, r, 0, co, 2 * c);
        for (Tensor t : new Tensor[] {gw, w1, w2}) CpuTestTensors.scale(t, 1 / Math.sqrt(c));
        CpuTestTensors.scale(wc, 1 / Math.sqrt(2 * c));
        Tensor gb = bias ? CpuTestTensors.randn(BE, r, 0, 3 * c) : null, b1 = bias ? CpuTestTensors.randn(BE, r, 0, c) : null;
        Tensor b2 = bias ? CpuTestTensors.randn(BE, r, 0, c) : null;
        Tensor g = BE.linear(low, gw, gb), u = BE.gateIn(g, skip), a = BE.linear(u, w1, b1), s = BE.gateOut(a, skip, g);
        Tensor s2 = BE.linear(s, w2, b2);
        Tensor gy = CpuTestTensors.randn(BE, r, 0, n, co, h, w);
        Tensor[] saved = {g, u, a, s, s2}, ws = {gw, w1, w2, wc};
        boolean[] biases = {bias, bias, bias, bias};
        // held gradients (held: every one; the parameters' as the flat gradient's slices, low's and the skip's as activations')
        Tensor[] heldAll = new Tensor[10];
        int[][] shapes = {low.shape(), skip.shape(), gw.shape(), {3 * c}, w1.shape(), {c}, w2.shape(), {c}, wc.shape(), {co}};
        for (int i = 0; i < 10; i++)
            if (held && (bias || i % 2 == 0 || i < 2)) heldAll[i] = CpuTestTensors.randn(BE, r, 0.3, shapes[i]);
        int all = CpuThreads.threads();
        try {   // at 1 thread (more threads than (image, K block) items take the composition: CpuLinearBwd.applies)
            CpuThreads.setThreads(1);
            // the one pass needs the vector kernel's dot spans (without the Vector API: the composition)
            assertEquals(fusedExpected && GemmKernels.BEST.dotSpans(), CpuGateBwd.applies(skip, wc, true),
                    "whether the one-pass backward applies");
        } finally {
            CpuThreads.setThreads(all);
        }

        // the ops one by one, as the tape ran them
        Tensor[] into = copies(heldAll);
        Tensor[] rc = BE.linearCatBackwardInto(s2, low, wc, gy, true, true, bias, null, into[0], into[8], into[9]);
        Tensor[] r2 = BE.linearBackwardInto(s, w2, rc[0], true, bias, null, into[6], into[7]);
        Tensor[] d = BE.gateOutBackward(a, skip, g, r2[0]);
        Tensor ds = !needSkip ? null : into[1] != null ? into[1] : d[1];
        if (needSkip && into[1] != null) BE.addInPlace(ds, d[1]);
        Tensor[] r1 = BE.linearBackwardInto(u, w1, d[0], true, bias, null, into[4], into[5]);
        Tensor dg = ds != null ? BE.gateInBackwardInto(r1[0], 3 * c, d[2], ds) : BE.gateInBackwardInto(r1[0], 3 * c, d[2]);
        Tensor[] rg = BE.linearBackwardInto(low, gw, dg, true, bias, rc[1], into[2], into[3]);
        Tensor[] want = {rg[0], ds, rg[1], rg[2], r1[1], r1[2], r2[1], r2[2], rc[2], rc[3]};

        for (boolean fused : new boolean[] {true, false})
            for (int threads : new int[] {1, all}) {
                Tensor[] got, sinks = copies(heldAll);
                if (!needSkip) sinks[1] = null;
                try {
                    CpuGateBwd.fused = fused;
                    CpuThreads.setThreads(threads);
                    got = BE.gateChainCatBackward(low, skip, saved, ws, gy, biases, true, needSkip, sinks);
                } finally {
                    CpuGateBwd.fused = true;
                    CpuThreads.setThreads(all);
                }
                String at = n + "x" + c + "→" + co + "x" + h + "x" + w + (fused ? " one pass" : " composition") + ", " + threads + " thread(s)";
                for (int i = 0; i < want.length; i++) {
                    if (sinks[i] != null) assertTrue(got[i] == sinks[i], NAMES[i] + " is added into the held gradient, " + at);
                    if (want[i] == null) {
                        assertNull(got[i], NAMES[i] + ", " + at);
                        continue;
                    }
                    float[] wv = BE.download(want[i]);
                    double m = 0;
                    for (float v : wv) m = Math.max(m, Math.abs(v));
                    assertTrue(m > 1e-3, NAMES[i] + ": the reference is not trivial");
                    assertArrayEquals(wv, BE.download(got[i]), NAMES[i] + ", " + at);
                }
            }
    }

    private static Tensor[] copies(Tensor[] t) {
        Tensor[] c = new Tensor[t.length];
        for (int i = 0; i < t.length; i++) c[i] = t[i] == null ? null : CpuTestTensors.copy(BE, t[i]);
        return c;
    }

    @Test void malformedCallIsRefused() {
        Random r = new Random(5);
        Tensor low = CpuTestTensors.randn(BE, r, 0, 1, 8, 5, 6), skip = CpuTestTensors.randn(BE, r, 0, 1, 8, 5, 6);
        Tensor g = CpuTestTensors.randn(BE, r, 0, 1, 24, 5, 6), badG = CpuTestTensors.randn(BE, r, 0, 1, 16, 5, 6);
        Tensor gw = CpuTestTensors.randn(BE, r, 0, 24, 8), w1 = CpuTestTensors.randn(BE, r, 0, 8, 8), wc = CpuTestTensors.randn(BE, r, 0, 8, 16);
        Tensor[] ws = {gw, w1, w1, wc};
        boolean[] nb = new boolean[4];
        var e = assertThrows(IllegalArgumentException.class, () ->
                BE.gateChainCatBackward(low, skip, new Tensor[] {badG, skip, skip, skip, skip}, ws, skip, nb, true, true, new Tensor[10]));
        assertTrue(e.getMessage().contains("gateChainCatBackward"), e.getMessage());
        Tensor[] ok = {g, skip, skip, skip, skip};
        Tensor[] wrongInto = new Tensor[10];
        wrongInto[0] = g;
        assertThrows(IllegalArgumentException.class, () -> BE.gateChainCatBackward(low, skip, ok, ws, skip, nb, true, true, wrongInto));
        assertThrows(IllegalArgumentException.class, () -> BE.gateChainCatBackward(low, skip, ok, ws, skip, nb, true, true, new Tensor[8]));
        assertThrows(IllegalArgumentException.class, () -> BE.gateChainCatBackward(low, skip, ok, ws, g, nb, true, true, new Tensor[10]));
    }
}
