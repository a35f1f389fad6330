package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuBackend.dwconv7BackwardInto, which adds dx into the held gradient as each plane is folded, is
 * bit for bit the interface's default (dwconv7Backward, then addInPlace of each gradient) — dx,
 * dw and db, each slot held or not — at 1 thread and at every thread the pool has, on odd planes,
 * the smallest legal plane and one wider than two vectors plus a tail. DwConv7ParityTest checks it
 * against float64 on every backend.
 */
class CpuDwConv7IntoTest {
    private static final CpuBackend BE = new CpuBackend();

    @Test void oddPlanes() { run(2, 3, 13, 17, 1); }

    @Test void smallestPlane() { run(1, 2, 4, 5, 2); }

    @Test void widePlane() { run(2, 2, 9, 45, 3); }

    private static void run(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.3, n, c, h, w), wt = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor dy = CpuTestTensors.randn(BE, r, 0.1, n, c, h, w);
        Tensor hx = CpuTestTensors.randn(BE, r, -0.2, n, c, h, w), hw = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor hb = CpuTestTensors.randn(BE, r, 0, c);
        Tensor[] fresh = BE.dwconv7Backward(x, wt, dy);
        CpuTestTensors.checkHeldSubsets(BE, n + "x" + c + "x" + h + "x" + w, fresh, new Tensor[] {hx, hw, hb},
                into -> BE.dwconv7BackwardInto(x, wt, dy, into[0], into[1], into[2]));
    }

    /**
     * dwconv7BatchnormBackwardInto (BN's dz made per plane inside the convolution's backward) is bit
     * for bit the interface's composition, batchnormBackward then dwconv7Backward of its dx, for every
     * subset of the five held gradients: the BN input z and its statistics from the forward op.
     */
    @Test void batchnormBackwardOddPlanes() { runBn(2, 3, 13, 17, 5); }

    @Test void batchnormBackwardSmallestPlane() { runBn(3, 2, 4, 5, 6); }

    @Test void batchnormBackwardWidePlane() { runBn(2, 2, 9, 45, 7); }

    private static void runBn(int n, int c, int h, int w, long seed) {
        Random r = new Random(seed);
        Tensor x = CpuTestTensors.randn(BE, r, 0.3, n, c, h, w), wt = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
        Tensor b = CpuTestTensors.randn(BE, r, 0.1, c), gamma = CpuTestTensors.randn(BE, r, 1, c), beta = CpuTestTensors.randn(BE, r, 0, c);
        Tensor rm = CpuTestTensors.randn(BE, r, 0, c), rv = BE.empty(c);
        BE.fill(rv, 1.5f);
        Tensor[] f = BE.dwconv7Batchnorm(x, wt, b, gamma, beta, rm, rv, 0.1f, 1e-5f);   // {z, y, mean, invstd}
        Tensor gy = CpuTestTensors.randn(BE, r, 0.2, n, c, h, w);
        Tensor[] bn = BE.batchnormBackward(f[0], gy, gamma, f[2], f[3]);
        Tensor[] d = BE.dwconv7Backward(x, wt, bn[0]);
        Tensor[] fresh = {d[0], d[1], d[2], bn[1], bn[2]};
        Tensor[] held = {CpuTestTensors.randn(BE, r, -0.2, n, c, h, w), CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7),
                CpuTestTensors.randn(BE, r, 0, c), CpuTestTensors.randn(BE, r, 0, c), CpuTestTensors.randn(BE, r, 0, c)};
        CpuTestTensors.checkHeldSubsets(BE, "dwconv7+bn " + n + "x" + c + "x" + h + "x" + w, fresh, held,
                into -> BE.dwconv7BatchnormBackwardInto(x, wt, f[0], gy, gamma, f[2], f[3], into[0], into[1], into[2], into[3], into[4]));
    }

    /** The fused forward (z's planes per channel, then BN from cache) is the composition bit for bit, running statistics too. */
    @Test void batchnormForwardIsTheComposition() {
        for (int[] s : new int[][] {{2, 3, 13, 17}, {3, 2, 4, 5}, {2, 5, 33, 40}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            Random r = new Random(h * 31 + w);
            Tensor x = CpuTestTensors.randn(BE, r, 0.3, n, c, h, w), wt = CpuTestTensors.randn(BE, r, 0, c, 1, 7, 7);
            Tensor b = CpuTestTensors.randn(BE, r, 0.1, c), gamma = CpuTestTensors.randn(BE, r, 1, c), beta = CpuTestTensors.randn(BE, r, 0, c);
            Tensor rm0 = CpuTestTensors.randn(BE, r, 0, c), rv0 = BE.empty(c);
            BE.fill(rv0, 1.5f);
            Tensor rmW = CpuTestTensors.copy(BE, rm0), rvW = CpuTestTensors.copy(BE, rv0);
            Tensor z = BE.dwconv7(x, wt, b);
            Tensor[] bn = BE.batchnormTrain(z, gamma, beta, rmW, rvW, 0.1f, 1e-5f);
            float[][] want = {BE.download(z), BE.download(bn[0]), BE.download(bn[1]), BE.download(bn[2]), BE.download(rmW), BE.download(rvW)};
            int all = CpuThreads.threads();
            for (int threads : new int[] {1, all}) {
                Tensor rm = CpuTestTensors.copy(BE, rm0), rv = CpuTestTensors.copy(BE, rv0);
                Tensor[] got;
                try {
                    CpuThreads.setThreads(threads);
                    got = BE.dwconv7Batchnorm(x, wt, b, gamma, beta, rm, rv, 0.1f, 1e-5f);
                } finally {
                    CpuThreads.setThreads(all);
                }
                String at = n + "x" + c + "x" + h + "x" + w + ", " + threads + " thread(s)";
                String[] names = {"z", "y", "mean", "invstd"};
                for (int i = 0; i < 4; i++) assertArrayEquals(want[i], BE.download(got[i]), names[i] + ": " + at);
                assertArrayEquals(want[4], BE.download(rm), "running mean: " + at);
                assertArrayEquals(want[5], BE.download(rv), "running var: " + at);
            }
        }
    }

    @Test void batchnormBackwardRefusesAMismatchBeforeWork() {
        Random r = new Random(8);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), wt = CpuTestTensors.randn(BE, r, 0, 2, 1, 7, 7);
        Tensor gy = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), g = CpuTestTensors.randn(BE, r, 1, 2), m = CpuTestTensors.randn(BE, r, 0, 2);
        Tensor inv = BE.empty(2), zBad = CpuTestTensors.randn(BE, r, 0, 1, 2, 7, 6), held = CpuTestTensors.randn(BE, r, 0, 2);
        BE.fill(inv, 1f);
        float[] before = BE.download(held);
        var e = assertThrows(IllegalArgumentException.class,
                () -> BE.dwconv7BatchnormBackwardInto(x, wt, zBad, gy, g, m, inv, null, null, null, held, null));
        assertTrue(e.getMessage().contains("atchnormBackward") || e.getMessage().contains("dwconv7BatchnormBackward"), e.getMessage());
        assertArrayEquals(before, BE.download(held), "the held dgamma is untouched");
        Tensor wrongBeta = CpuTestTensors.randn(BE, r, 0, 3);
        assertThrows(IllegalArgumentException.class,
                () -> BE.dwconv7BatchnormBackwardInto(x, wt, x, gy, g, m, inv, null, null, null, held, wrongBeta));
        assertArrayEquals(before, BE.download(held), "the held dgamma is untouched");
    }

    @Test void heldGradientOfAnotherShapeIsRefusedBeforeWork() {
        Random r = new Random(4);
        Tensor x = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), wt = CpuTestTensors.randn(BE, r, 0, 2, 1, 7, 7);
        Tensor dy = CpuTestTensors.randn(BE, r, 0, 1, 2, 6, 7), held = CpuTestTensors.randn(BE, r, 0, 1, 2, 7, 6);
        float[] before = BE.download(held);
        var e = assertThrows(IllegalArgumentException.class, () -> BE.dwconv7BackwardInto(x, wt, dy, held, null, null));
        assertTrue(e.getMessage().contains("dwconv7Backward"), e.getMessage());
        assertArrayEquals(before, BE.download(held), "the held gradient is untouched");
    }
}
