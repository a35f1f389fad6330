package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Up block's chain per pixel block (CpuGate.chain) is bit for bit the six ops it replaces
 * (linear, gateIn, linear, gateOut, linear, linearCat on CpuBackend), with both SimdOps, at 1
 * thread and at every thread the pool has: an odd plane, the level-0 and level-1 widths over several
 * blocks with a partial last one, level 3's width (one-tile blocks), no biases, one pixel. GateParityTest checks it against float64 on
 * every backend.
 */
class CpuGateChainTest {
    private static final CpuBackend BE = new CpuBackend();
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    @Test void oddPlane() { run(2, 5, 3, 13, 17, true, 1); }

    @Test void level0WidthSeveralBlocks() { run(1, 32, 32, 23, 29, true, 2); }

    @Test void level1WidthNoBias() { run(2, 64, 32, 19, 21, false, 3); }

    @Test void onePixel() { run(3, 8, 8, 1, 1, true, 4); }

    /** Level 3's width: blocks of one GEMM tile (32 pixels). */
    @Test void level3Width() { run(1, 256, 128, 9, 11, true, 7); }

    private static Tensor randn(Random r, double scale, int... shape) {
        Tensor t = CpuTestTensors.randn(BE, r, 0, shape);
        CpuTestTensors.scale(t, scale);
        return t;
    }

    private static void run(int n, int c, int co, int h, int w, boolean bias, long seed) {
        Random r = new Random(seed);
        Tensor low = randn(r, 1, n, c, h, w), skip = randn(r, 1, n, c, h, w);
        double k1 = 1 / Math.sqrt(c);
        Tensor gw = randn(r, k1, 3 * c, c), w1 = randn(r, k1, c, c), w2 = randn(r, k1, c, c), wc = randn(r, 1 / Math.sqrt(2 * c), co, 2 * c);
        Tensor gb = bias ? randn(r, 1, 3 * c) : null, b1 = bias ? randn(r, 1, c) : null, b2 = bias ? randn(r, 1, c) : null;
        Tensor bc = bias ? randn(r, 1, co) : null;
        assertTrue(CpuGate.chainApplies(skip), "the fused path applies at C " + c);
        String at = n + "x" + c + "x" + h + "x" + w + " → " + co + (bias ? " bias" : "");
        for (SimdOps ops : OPS) {
            // the composition, with this SimdOps for gateOut (CpuGate uses SimdOps.BEST: the same bits, SimdOpsTest)
            Tensor g = BE.linear(low, gw, gb), u = BE.gateIn(g, skip), a = BE.linear(u, w1, b1), s = BE.gateOut(a, skip, g);
            Tensor want = BE.linearCat(BE.linear(s, w2, b2), low, wc, bc);
            float[] wa = BE.download(want);
            int all = CpuThreads.threads();
            for (int threads : new int[] {1, all}) {
                Tensor got;
                try {
                    CpuThreads.setThreads(threads);
                    got = CpuGate.chain(BE, low, skip, gw, gb, w1, b1, w2, b2, wc, bc, ops);
                } finally {
                    CpuThreads.setThreads(all);
                }
                assertArrayEquals(wa, BE.download(got), "fused vs the six ops, " + threads + " thread(s): " + at + " " + ops.describe());
            }
        }
        assertArrayEquals(BE.download(CpuGate.chain(BE, low, skip, gw, gb, w1, b1, w2, b2, wc, bc, SimdOps.BEST)),
                BE.download(BE.gateChain(low, skip, gw, gb, w1, b1, w2, b2, wc, bc)), "CpuBackend.gateChain: " + at);
    }

    @Test void wideChannelsTakeTheComposition() {
        Random r = new Random(5);
        Tensor skip = randn(r, 1, 1, CpuGate.CHAIN_MAX_C + 8, 3, 3);
        assertFalse(CpuGate.chainApplies(skip));
    }

    @Test void mismatchedShapesAreRefusedBeforeWork() {
        Random r = new Random(6);
        Tensor low = randn(r, 1, 1, 4, 5, 6), skip = randn(r, 1, 1, 4, 6, 5);
        Tensor gw = randn(r, 1, 12, 4), w1 = randn(r, 1, 4, 4), w2 = randn(r, 1, 4, 4), wc = randn(r, 1, 3, 8);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.gateChain(low, skip, gw, null, w1, null, w2, null, wc, null));
        assertTrue(e.getMessage().contains("gateChain"), e.getMessage());
        Tensor skip2 = randn(r, 1, 1, 4, 5, 6), wcBad = randn(r, 1, 3, 7);
        var e2 = assertThrows(IllegalArgumentException.class, () -> BE.gateChain(low, skip2, gw, null, w1, null, w2, null, wcBad, null));
        assertTrue(e2.getMessage().contains("gateChain"), e2.getMessage());
    }
}
