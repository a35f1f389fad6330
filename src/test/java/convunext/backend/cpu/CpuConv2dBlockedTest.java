package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The dense convolution's forward through column blocks (im2colRange into a per-thread scratch,
 * the GEMM per block) gives every bit of the whole-column-matrix path (im2col, one GEMM per image):
 * the stem's 7×7 reflect shape, zero padding, stride 2 with padding, 3×3, K over the GEMM's 256-row
 * block, output widths that are not multiples of the tile width, images of more pixels than a block,
 * with and without bias, at one thread and at all.
 */
class CpuConv2dBlockedTest {
    private static final CpuBackend BE = new CpuBackend();

    private static Tensor rand(Random r, int... shape) { return CpuTestTensors.randn(BE, r, 0.2, shape); }

    private static int[] bits(float[] a) { return CpuTestTensors.bits(a); }

    /** The whole-matrix path, as CpuConv2d.forward ran it before column blocks. */
    private static float[] wholeMatrix(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), k = w.dim(2);
        int ho = (h + 2 * pad - k) / stride + 1, wo = (wd + 2 * pad - k) / stride + 1, rows = ci * k * k, cols = ho * wo;
        float[] col = new float[rows * cols], y = new float[n * co * cols];
        CpuGemm.PackedA wp = CpuGemm.pack(co, rows, w.array(), w.off(), rows, 1);
        CpuConv2d.Geo g = CpuConv2d.geometry(x, w, new int[] {n, co, ho, wo}, stride, pad, reflect);
        for (int i = 0; i < n; i++) {
            CpuConv2d.im2col(g, x.array(), x.off() + i * ci * h * wd, col);
            CpuGemm.gemm(wp, cols, col, 0, cols, 1, y, i * co * cols, cols, false, b == null ? null : b.array(), b == null ? 0 : b.off(), null);
        }
        return y;
    }

    @Test void columnBlocksGiveTheWholeMatrixBits() {
        int[][] cases = {   // n, ci, h, w, co, k, stride, pad, reflect(1/0)
                {2, 3, 70, 67, 32, 7, 1, 3, 1}, {1, 3, 64, 64, 8, 7, 1, 3, 1}, {1, 5, 33, 29, 7, 3, 1, 1, 0},
                {2, 4, 41, 37, 6, 3, 2, 1, 0}, {1, 7, 23, 25, 9, 7, 1, 3, 1}, {1, 2, 9, 13, 3, 5, 2, 2, 1},
                {1, 3, 150, 140, 16, 7, 1, 3, 1}};
        Random r = new Random(77);
        int all = CpuThreads.threads();
        try {
            for (int threads : new int[] {1, all})
                for (int[] c : cases)
                    for (boolean bias : new boolean[] {true, false}) {
                        CpuThreads.setThreads(threads);
                        Tensor x = rand(r, c[0], c[1], c[2], c[3]), w = rand(r, c[4], c[1], c[5], c[5]), b = bias ? rand(r, c[4]) : null;
                        float[] expected = wholeMatrix(x, w, b, c[6], c[7], c[8] == 1);
                        float[] got = BE.download(CpuConv2d.forward(BE, x, w, b, c[6], c[7], c[8] == 1));
                        assertArrayEquals(bits(expected), bits(got), java.util.Arrays.toString(c) + " bias " + bias + " threads " + threads);
                    }
        } finally {
            CpuThreads.setThreads(all);
        }
    }

    /**
     * dW and db without dx (the stem's backward) through column blocks aligned to the dot path's K
     * blocks equal, bit for bit, those of the whole-matrix path (which still runs when dx is wanted):
     * one K block, several with a short remainder (9,000 pixels), an exact multiple, pixels below
     * the dot path's minimum (the unblocked path), two images, 1 and all threads.
     */
    @Test void weightGradientBlocksGiveTheWholeMatrixBits() {
        int[][] cases = {   // n, ci, h, w, co, k, stride, pad, reflect
                {1, 3, 100, 90, 8, 7, 1, 3, 1}, {2, 3, 64, 128, 16, 7, 1, 3, 1}, {2, 2, 40, 33, 5, 7, 1, 3, 1},
                {1, 3, 20, 20, 4, 7, 1, 3, 1}, {1, 4, 61, 59, 6, 3, 2, 1, 0}};
        Random r = new Random(78);
        int all = CpuThreads.threads();
        try {
            for (int threads : new int[] {1, all})
                for (int[] c : cases) {
                    CpuThreads.setThreads(threads);
                    int ho = (c[2] + 2 * c[7] - c[5]) / c[6] + 1, wo = (c[3] + 2 * c[7] - c[5]) / c[6] + 1;
                    Tensor x = rand(r, c[0], c[1], c[2], c[3]), w = rand(r, c[4], c[1], c[5], c[5]), dy = rand(r, c[0], c[4], ho, wo);
                    Tensor[] whole = CpuConv2d.backward(BE, x, w, dy, c[6], c[7], c[8] == 1, true, true);
                    Tensor[] blocked = CpuConv2d.backward(BE, x, w, dy, c[6], c[7], c[8] == 1, false, true);
                    String at = java.util.Arrays.toString(c) + " threads " + threads;
                    org.junit.jupiter.api.Assertions.assertNull(blocked[0], "no dx asked for");
                    assertArrayEquals(bits(BE.download(whole[1])), bits(BE.download(blocked[1])), "dW " + at);
                    assertArrayEquals(bits(BE.download(whole[2])), bits(BE.download(blocked[2])), "db " + at);
                }
        } finally {
            CpuThreads.setThreads(all);
        }
    }

    /**
     * The 2×2 stride-2 downsampling's backward with dW through column blocks (its rows
     * de-interleaved per block) and dx from dY's tiles gives the bits of the whole column matrix:
     * with and without dx, odd sizes (a dropped last row and column), several K blocks per image
     * with a short remainder, 1 and all threads.
     */
    @Test void downsamplingWeightGradientBlocksGiveTheWholeMatrixBits() {
        int[][] cases = {   // n, ci, h, w, co
                {2, 32, 80, 72, 64}, {1, 8, 47, 91, 16}, {2, 4, 190, 180, 8}, {1, 12, 33, 70, 12}};
        Random r = new Random(79);
        CpuTestTensors.atOneAndAllThreads(cases, (c, threads) -> {
            Tensor x = rand(r, c[0], c[1], c[2], c[3]), w = rand(r, c[4], c[1], 2, 2), dy = rand(r, c[0], c[4], c[2] / 2, c[3] / 2);
            String at = java.util.Arrays.toString(c) + " threads " + threads;
            for (boolean needDx : new boolean[] {true, false}) {
                Tensor[] whole, blocked;
                try {
                    CpuConv2d.blockedWeightGrad = false;
                    whole = CpuConv2d.backward(BE, x, w, dy, 2, 0, false, needDx, true);
                } finally {
                    CpuConv2d.blockedWeightGrad = true;
                }
                blocked = CpuConv2d.backward(BE, x, w, dy, 2, 0, false, needDx, true);
                if (needDx) assertArrayEquals(bits(BE.download(whole[0])), bits(BE.download(blocked[0])), "dx " + at);
                else org.junit.jupiter.api.Assertions.assertNull(blocked[0], "no dx asked for");
                assertArrayEquals(bits(BE.download(whole[1])), bits(BE.download(blocked[1])), "dW " + at + " dx " + needDx);
                assertArrayEquals(bits(BE.download(whole[2])), bits(BE.download(blocked[2])), "db " + at + " dx " + needDx);
            }
        });
    }
}
