package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The 2×2 stride-2 convolution through CpuConvS2D (B gathered from x, dx scattered from the
 * product's tiles, no column matrix) gives every bit of the column-matrix path it replaced, which
 * this test rebuilds: space-to-depth im2col, CpuGemm with the packed W (forward) and Wᵀ (dx) and
 * a strided copy back (col2im, 0 at uncovered pixels). Odd H and W (last row/column uncovered),
 * Cin not a multiple of 8, Cout not a multiple of the kernel's 8 rows, H·W/4 not a multiple of the
 * tile width, Cout over one 256-row K block (forward: two K blocks; dx: the column-matrix
 * fallback), one image and two, inputs at offsets, at one thread and at all. The float64 checks
 * are Conv2dParityTest's and RefConv2dTest's.
 */
class CpuConvS2DTest {
    private static final CpuBackend BE = new CpuBackend();

    private static Tensor randn(Random r, int... shape) { return CpuTestTensors.randn(BE, r, 0.3, shape); }

    private static void same(float[] e, Tensor got, String what) {
        float[] g = BE.download(got);
        int[] eb = new int[e.length], gb = new int[g.length];
        for (int i = 0; i < e.length; i++) eb[i] = Float.floatToRawIntBits(e[i]);
        for (int i = 0; i < g.length; i++) gb[i] = Float.floatToRawIntBits(g[i]);
        assertArrayEquals(eb, gb, what);
    }

    /** y, dx, dW, db of the column-matrix path (the code CpuConvS2D replaced, kept here as the reference). */
    private static float[][] columnPath(float[] x, float[] w, float[] b, float[] dy, int n, int ci, int h, int wd, int co) {
        int ho = h / 2, wo = wd / 2, rows = ci * 4, cols = ho * wo, plane = ci * h * wd;
        float[] col = new float[rows * cols], dcol = new float[rows * cols];
        float[] y = new float[n * co * cols], dx = new float[n * plane], dw = new float[co * rows], db = new float[co];
        CpuGemm.PackedA wp = CpuGemm.pack(co, rows, w, 0, rows, 1), wt = CpuGemm.pack(rows, co, w, 0, 1, rows);
        double[] s = new double[co];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < ci; c++)
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        for (int oy = 0; oy < ho; oy++)
                            for (int ox = 0; ox < wo; ox++)
                                col[((c * 2 + ky) * 2 + kx) * cols + oy * wo + ox] = x[i * plane + (c * h + 2 * oy + ky) * wd + 2 * ox + kx];
            CpuGemm.gemm(wp, cols, col, 0, cols, 1, y, i * co * cols, cols, false, b, 0, null);
            CpuGemm.gemm(co, rows, cols, dy, i * co * cols, cols, 1, col, 0, 1, cols, dw, 0, rows, i > 0, s);
            CpuGemm.gemm(wt, cols, dy, i * co * cols, cols, 1, dcol, 0, cols, false, null, 0, null);
            for (int c = 0; c < ci; c++)
                for (int ky = 0; ky < 2; ky++)
                    for (int kx = 0; kx < 2; kx++)
                        for (int oy = 0; oy < ho; oy++)
                            for (int ox = 0; ox < wo; ox++)
                                dx[i * plane + (c * h + 2 * oy + ky) * wd + 2 * ox + kx] = dcol[((c * 2 + ky) * 2 + kx) * cols + oy * wo + ox];
        }
        for (int o = 0; o < co; o++) db[o] = (float) s[o];
        return new float[][] {y, dx, dw, db};
    }

    private static void check(long seed, int n, int ci, int h, int wd, int co) {
        Random r = new Random(seed);
        Tensor x = randn(r, n, ci, h, wd), w = randn(r, co, ci, 2, 2), b = randn(r, co), dy = randn(r, n, co, h / 2, wd / 2);
        float[][] e = columnPath(BE.download(x), BE.download(w), BE.download(b), BE.download(dy), n, ci, h, wd, co);
        int all = CpuThreads.threads();
        try {
            for (int t : new int[] {1, all}) {
                CpuThreads.setThreads(t);
                String tag = "conv2d 2x2 s2 " + n + "x" + ci + "x" + h + "x" + wd + "→" + co + " threads " + t;
                same(e[0], BE.conv2d(x, w, b, 2, 0, false), tag + " y");
                Tensor[] g = BE.conv2dBackward(x, w, dy, 2, 0, false, true, true);
                same(e[1], g[0], tag + " dx");
                same(e[2], g[1], tag + " dw");
                same(e[3], g[2], tag + " db");
            }
        } finally {
            CpuThreads.setThreads(all);
        }
    }

    @Test void oddInputOneImage() { check(1, 1, 5, 13, 17, 9); }

    @Test void oddInputTwoImages() { check(2, 2, 13, 11, 15, 12); }

    @Test void oddHeightOnly() { check(3, 2, 3, 9, 20, 70); }

    @Test void wideOutputOverOneKBlock() { check(4, 1, 13, 7, 9, 260); }

    @Test void inputOverTwoKBlocks() { check(5, 2, 70, 10, 12, 36); }

    @Test void modelShapeSmall() { check(6, 2, 32, 64, 64, 64); }

    @Test void manyColumnsSeveralBlocks() { check(7, 1, 9, 80, 67, 16); }

    /** The de-interleave the gathers use and the scatter's interleave (Vector API when present) copy exactly what the scalar loops copy: lengths across vector bodies and tails, odd offsets. */
    @Test void deinterleaveEqualsScalar() {
        Random r = new Random(8);
        float[] x = new float[300];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int n = 0; n <= 70; n++)
            for (int s : new int[] {0, 1, 7}) {
                float[] e = new float[160], g = new float[160];
                CpuConvS2D.SCALAR.run(x, s, e, 3, 80, n);
                CpuConvS2D.DEINTERLEAVE.run(x, s, g, 3, 80, n);
                assertArrayEquals(e, g, "deinterleave n " + n + " s " + s);
                float[] ei = new float[300], gi = new float[300];
                CpuConvS2D.SCALAR.interleave(x, s, s + 90, ei, 5, n);
                CpuConvS2D.DEINTERLEAVE.interleave(x, s, s + 90, gi, 5, n);
                assertArrayEquals(ei, gi, "interleave n " + n + " s " + s);
            }
    }
}
