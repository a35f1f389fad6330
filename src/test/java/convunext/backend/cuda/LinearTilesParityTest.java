package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.cuda.ops.LinearOps;
import convunext.backend.cuda.ops.Launcher;
import convunext.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The paths of gemm_tile.cuh's engine that LinearParityTest's odd sizes do not reach, vs the
 * float64 oracle: the 16-byte paths (pixel counts and views aligned to 4 floats), an unaligned
 * view of an aligned shape (the scalar path), every tile height (128, 64, 32), every weight tile
 * (128x128, 128x32, 32x128, 64x64, 32x32), several column tiles per block (tpb > 1), the
 * compile-time convolution shapes, and the fast division the loaders use.
 * Tolerance 1e-5 relative, as LinearParityTest (float32 sums of at most a few hundred products).
 */
class LinearTilesParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(31); }

    @AfterAll static void close() { p.close(); }

    /** Forward, dx, dw, db of linear with x given as {cuda, ref} tensors. */
    void linearCase(String tag, Tensor[] x, int co, boolean bias) {
        int n = x[1].dim(0), ci = x[1].dim(1), h = x[1].dim(2), w = x[1].dim(3);
        Tensor[] wt = p.gaussT(co, ci);
        Tensor[] b = bias ? p.gaussT(co) : new Tensor[]{null, null};
        p.check(tag + " y", p.cuda.linear(x[0], wt[0], b[0]), p.ref.linear(x[1], wt[1], b[1]), TOL);
        Tensor[] dy = p.gaussT(n, co, h, w);
        Tensor[] gc = p.cuda.linearBackward(x[0], wt[0], dy[0], true, bias);
        Tensor[] gr = p.ref.linearBackward(x[1], wt[1], dy[1], true, bias);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dw", gc, gr, 1, TOL);
        if (bias) p.check(tag + " db", gc, gr, 2, TOL);
    }

    void linearCase(int n, int ci, int co, int h, int w, boolean bias) {
        linearCase("linear n" + n + " ci" + ci + " co" + co + " " + h + "x" + w, p.gaussT(n, ci, h, w), co, bias);
    }

    @Test void alignedBm128() { linearCase(2, 32, 128, 8, 12, true); }

    @Test void alignedBm64() { linearCase(2, 40, 64, 10, 12, true); }

    @Test void alignedBm32() { linearCase(1, 128, 32, 16, 20, true); }

    /** Rows that pad best with 32-row tiles (96 = 3 x 32), aligned. */
    @Test void rows96() { linearCase(1, 32, 96, 6, 6, false); }

    /** An aligned shape seen through a view one float off: the kernels must take the scalar path. */
    @Test void unalignedViewOfAlignedShape() {
        int n = 1, ci = 12, h = 8, w = 8, numel = n * ci * h * w;
        float[] data = p.gauss(numel + 1);
        Tensor baseC = p.cuda.upload(data, numel + 1), baseR = p.ref.upload(data, numel + 1);
        Tensor[] x = {p.cuda.view(baseC, 1, n, ci, h, w), p.ref.view(baseR, 1, n, ci, h, w)};
        linearCase("unaligned view", x, 20, true);
    }

    @Test void everyWeightTile() {
        linearCase(1, 128, 128, 5, 7, true);   // 128x128 (an exact fit for every tile: the largest wins)
        linearCase(1, 24, 120, 4, 8, true);    // 128x32
        linearCase(1, 120, 20, 4, 8, false);   // 32x128
        linearCase(1, 60, 60, 3, 3, true);     // 64x64
        linearCase(2, 3, 2, 9, 9, true);       // 32x32
    }

    /** Several column tiles per block, on the plain, GELU and data-gradient kernels. */
    @Test void severalTilesPerBlock() {
        int old = LinearOps.setMultiTileBlocks(1);
        try {
            linearCase(2, 16, 24, 25, 31, true);   // 775 pixels: 4 tiles of 256, unaligned
            linearCase(1, 20, 70, 16, 32, true);   // 512 pixels: 4 tiles of 128, aligned
            Tensor[] x = p.gaussT(2, 12, 20, 20), w1 = p.gaussT(40, 12), b1 = p.gaussT(40), w2 = p.gaussT(12, 40);
            Tensor[] hc = p.cuda.linearGelu(x[0], w1[0], b1[0], true), hr = p.ref.linearGelu(x[1], w1[1], b1[1], true);
            p.check("multi-tile linearGelu h", hc, hr, 0, TOL);
            p.check("multi-tile linearGelu pre", hc, hr, 1, TOL);
            Tensor[] dy = p.gaussT(2, 12, 20, 20);
            p.check("multi-tile linearBackwardDataGelu", p.cuda.linearBackwardDataGelu(w2[0], dy[0], hc[1]),
                    p.ref.linearBackwardDataGelu(w2[1], dy[1], hr[1]), TOL);
            convCase(1, 3, 16, 24, 24, 7, 1, 3, true);
        } finally {
            LinearOps.setMultiTileBlocks(old);
        }
    }

    void convCase(int n, int ci, int co, int h, int w, int k, int s, int pad, boolean reflect) {
        String tag = "conv " + k + "x" + k + " s" + s + " p" + pad + " ci" + ci + " co" + co + " " + h + "x" + w;
        Tensor[] x = p.gaussT(n, ci, h, w), wt = p.gaussT(co, ci, k, k), b = p.gaussT(co);
        Tensor yr = p.ref.conv2d(x[1], wt[1], b[1], s, pad, reflect);
        p.check(tag + " y", p.cuda.conv2d(x[0], wt[0], b[0], s, pad, reflect), yr, TOL);
        Tensor[] dy = p.up(p.gauss((int) yr.numel()), yr.shape());
        Tensor[] gc = p.cuda.conv2dBackward(x[0], wt[0], dy[0], s, pad, reflect, true, true);
        Tensor[] gr = p.ref.conv2dBackward(x[1], wt[1], dy[1], s, pad, reflect, true, true);
        for (int i = 0; i < 3; i++) p.check(tag + " grad " + i, gc, gr, i, TOL);
    }

    @Test void stemAligned() { convCase(2, 3, 32, 12, 16, 7, 1, 3, true); }

    @Test void stemWideCo() { convCase(1, 3, 48, 9, 12, 7, 1, 3, true); }

    @Test void downAlignedWideTile() { convCase(1, 64, 120, 8, 16, 2, 2, 0, false); }

    @Test void downOddSizeStrideTwo() { convCase(2, 6, 36, 9, 11, 2, 2, 0, true); }

    /** Launcher.fastDiv against integer division: every divisor up to 4096 on edge and random numerators. */
    @Test void fastDivisionIsExact() {
        SplittableRandom r = new SplittableRandom(5);
        for (int d = 1; d <= 4096; d++) {
            int[] ms = Launcher.fastDiv(d);
            long m = ms[0] & 0xffffffffL;
            int[] ns = {0, 1, d - 1, d, d + 1, 2 * d - 1, Integer.MAX_VALUE, Integer.MAX_VALUE - 1, Integer.MAX_VALUE - d,
                    r.nextInt(Integer.MAX_VALUE), r.nextInt(1 << 20), r.nextInt(Integer.MAX_VALUE)};
            for (int nv : ns) {
                if (nv < 0) continue;
                assertEquals(nv / d, (int) ((nv * m) >>> ms[1]), "n " + nv + " / d " + d);
            }
        }
        for (int d : new int[]{30, 60, 120, 240, 480, 1000003, Integer.MAX_VALUE}) {
            int[] ms = Launcher.fastDiv(d);
            long m = ms[0] & 0xffffffffL;
            for (int i = 0; i < 10000; i++) {
                int nv = r.nextInt(Integer.MAX_VALUE);
                assertEquals(nv / d, (int) ((nv * m) >>> ms[1]), "n " + nv + " / d " + d);
            }
        }
    }
}
