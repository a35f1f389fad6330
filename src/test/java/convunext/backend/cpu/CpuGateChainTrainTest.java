package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuBackend.gateChainTrain (the Up block's chain per block of pixels in training) is bit for bit
 * the six ops one by one (linear, gateIn, linear, gateOut, linear, linearCat) in all six outputs,
 * at 1 thread and at every thread the pool has: one block, several blocks with a ragged last one,
 * level 1's width, the widest fused width (128 channels) and a wider one (the ops one by one),
 * with and without biases, the 1×1 conv to other widths and none (no y).
 */
class CpuGateChainTrainTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void oneBlock() { run(2, 8, 13, 17, true, 1, 12); }

    @Test void raggedBlocks() { run(1, 32, 40, 37, true, 2, 32); }

    @Test void levelOneWidth() { run(2, 64, 21, 30, false, 3, 32); }

    @Test void widestFused() { run(2, 128, 13, 11, true, 7, 64); }

    @Test void wider() { run(1, 136, 9, 11, true, 4, 40); }

    @Test void noConv() { run(2, 16, 23, 29, true, 6, 0); }

    private static void run(int n, int c, int h, int w, boolean bias, long seed, int co) {
        Random r = new Random(seed);
        Tensor low = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w), skip = CpuTestTensors.randn(BE, r, -0.2, n, c, h, w);
        Tensor gw = CpuTestTensors.randn(BE, r, 0, 3 * c, c), w1 = CpuTestTensors.randn(BE, r, 0, c, c), w2 = CpuTestTensors.randn(BE, r, 0, c, c);
        Tensor gb = bias ? CpuTestTensors.randn(BE, r, 0, 3 * c) : null, b1 = bias ? CpuTestTensors.randn(BE, r, 0, c) : null;
        Tensor b2 = bias ? CpuTestTensors.randn(BE, r, 0, c) : null;
        assertEquals(c <= 128, CpuGate.trainChainApplies(skip), "per-block path taken at " + c + " channels");
        Tensor g = BE.linear(low, gw, gb), u = BE.gateIn(g, skip), a = BE.linear(u, w1, b1), s = BE.gateOut(a, skip, g);
        Tensor wc = co == 0 ? null : CpuTestTensors.randn(BE, r, 0, co, 2 * c), bc = co == 0 || !bias ? null : CpuTestTensors.randn(BE, r, 0, co);
        Tensor s2 = BE.linear(s, w2, b2);
        Tensor[] want = {g, u, a, s, s2, co == 0 ? null : BE.linearCat(s2, low, wc, bc)};
        String[] names = {"g", "u", "a", "s", "s2", "y"};
        int all = CpuThreads.threads();
        for (int threads : new int[] {1, all}) {
            Tensor[] got;
            try {
                CpuThreads.setThreads(threads);
                got = BE.gateChainTrain(low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
            } finally {
                CpuThreads.setThreads(all);
            }
            if (co == 0) assertTrue(got[5] == null, "no y without wc");
            for (int i = 0; i < (co == 0 ? 5 : 6); i++)
                assertArrayEquals(BE.download(want[i]), BE.download(got[i]), names[i] + ", " + n + "x" + c + "x" + h + "x" + w + ", " + threads + " thread(s)");
        }
    }

    @Test void malformedCallIsRefused() {
        Random r = new Random(5);
        Tensor low = CpuTestTensors.randn(BE, r, 0, 1, 8, 5, 6), skip = CpuTestTensors.randn(BE, r, 0, 1, 8, 5, 6);
        Tensor gw = CpuTestTensors.randn(BE, r, 0, 24, 8), w1 = CpuTestTensors.randn(BE, r, 0, 8, 8), bad = CpuTestTensors.randn(BE, r, 0, 8, 7);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.gateChainTrain(low, skip, gw, null, w1, null, bad, null, null, null));
        assertTrue(e.getMessage().contains("gateChainTrain"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BE.gateChainTrain(low, skip, gw, null, w1, null, null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> BE.gateChainTrain(low, skip, gw, null, w1, null, w1, null, bad, null));
    }
}
