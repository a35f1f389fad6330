package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CpuLinearCat (no concatenated tensor: a row-split B in the forward GEMM, the backward split by
 * rows of dx and columns of dW) gives every bit that concat + CpuLinear gives: forward, da, db, dW
 * and the bias gradient, at the model's channel counts and at odd ones (C not a multiple of the
 * micro-kernel's 8 rows or the dot tiles' 4, H·W not a multiple of the tile width, a K over the
 * 256-row block), with inputs at offsets inside larger arrays, at one thread and at all threads.
 * The float64 gradient checks of the op are RefLinearCatTest's; LinearCatParityTest compares the
 * backends with the oracle.
 */
class CpuLinearCatTest {
    private static final CpuBackend BE = new CpuBackend();

    private static Tensor randn(Random r, int... shape) { return CpuTestTensors.randn(BE, r, 0.3, shape); }

    private static void same(Tensor expected, Tensor got, String what) {
        assertArrayEquals(CpuTestTensors.bits(BE.download(expected)), CpuTestTensors.bits(BE.download(got)), what);
    }

    @Test void sameBitsAsConcatThenLinear() {
        int[][] shapes = {   // n, Ca, Cb, Co, H, W
                {2, 32, 32, 32, 24, 40}, {1, 8, 16, 8, 9, 13}, {2, 5, 3, 7, 11, 9}, {1, 160, 136, 24, 6, 7},
                {2, 12, 4, 20, 40, 40}, {1, 3, 1, 2, 1, 1}};
        int all = CpuThreads.threads();
        Random r = new Random(71);
        try {
            for (int threads : new int[] {1, all})
                for (int[] s : shapes) {
                    CpuThreads.setThreads(threads);
                    String at = java.util.Arrays.toString(s) + " threads " + threads;
                    Tensor a = randn(r, s[0], s[1], s[4], s[5]), b = randn(r, s[0], s[2], s[4], s[5]);
                    Tensor w = randn(r, s[3], s[1] + s[2]), bias = randn(r, s[3]), dy = randn(r, s[0], s[3], s[4], s[5]);
                    Tensor x = BE.concat(a, b);
                    same(CpuLinear.forward(BE, x, w, bias), CpuLinearCat.forward(BE, a, b, w, bias), "y " + at);
                    same(CpuLinear.forward(BE, x, w, null), CpuLinearCat.forward(BE, a, b, w, null), "y without bias " + at);
                    Tensor[] g0 = CpuLinear.backward(BE, x, w, dy, true, true);
                    Tensor[] g1 = CpuLinearCat.backward(BE, a, b, w, dy, true, true, true);
                    same(BE.sliceChannels(g0[0], 0, s[1]), g1[0], "da " + at);
                    same(BE.sliceChannels(g0[0], s[1], s[1] + s[2]), g1[1], "db " + at);
                    same(g0[1], g1[2], "dW " + at);
                    same(g0[2], g1[3], "dbias " + at);
                    Tensor[] only = CpuLinearCat.backward(BE, a, b, w, dy, false, true, false);
                    assertNull(only[0], "da not asked for");
                    assertNull(only[3], "dbias not asked for");
                    same(g1[1], only[1], "db alone " + at);
                    same(g1[2], only[2], "dW without the bias gradient " + at);
                }
        } finally {
            CpuThreads.setThreads(all);
        }
    }

    /**
     * The backward through CpuLinearBwd's one pass (dy read once, X's rows from a and b) against the
     * unfused GEMMs, bit for bit: pixel counts with a scalar tail (not a multiple of the lanes), two
     * K blocks per image, da or db alone, at one thread and at all.
     */
    @Test void onePassBackwardGivesTheUnfusedBits() {
        int[][] shapes = {   // n, Ca, Cb, Co, H, W
                {2, 8, 12, 16, 23, 29}, {1, 32, 32, 32, 70, 80}, {2, 4, 8, 12, 31, 33}, {3, 16, 4, 8, 27, 19}};
        Random r = new Random(72);
        CpuTestTensors.atOneAndAllThreads(shapes, (s, threads) -> {
            String at = java.util.Arrays.toString(s) + " threads " + threads;
            int p = s[4] * s[5];
            org.junit.jupiter.api.Assertions.assertTrue(CpuLinearBwd.applies(s[0], s[1] + s[2], s[3], p) || !GemmKernels.BEST.dotSpans(),
                    "the one pass applies at " + at);
            Tensor a = randn(r, s[0], s[1], s[4], s[5]), b = randn(r, s[0], s[2], s[4], s[5]);
            Tensor w = randn(r, s[3], s[1] + s[2]), dy = randn(r, s[0], s[3], s[4], s[5]);
            for (boolean[] need : new boolean[][] {{true, true}, {true, false}, {false, true}}) {
                Tensor[] fused, unfused;
                try {
                    CpuLinearCat.fusedBackward = false;
                    unfused = CpuLinearCat.backward(BE, a, b, w, dy, need[0], need[1], true);
                } finally {
                    CpuLinearCat.fusedBackward = true;
                }
                fused = CpuLinearCat.backward(BE, a, b, w, dy, need[0], need[1], true);
                String what = at + " da " + need[0] + " db " + need[1];
                for (int k = 0; k < 4; k++) {
                    if (unfused[k] == null) assertNull(fused[k], "slot " + k + " " + what);
                    else same(unfused[k], fused[k], "slot " + k + " " + what);
                }
            }
        });
    }

    @Test void rowSplitOutsideKIsRefused() {
        float[] z = new float[64];
        assertThrows(IllegalArgumentException.class,
                () -> CpuGemm.gemmRowSplitB(2, 4, 3, z, 0, 3, 1, z, 0, z, 0, 4, 4, z, 0, 4, null, 0));
    }
}
