package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gemm.cu through CudaBackend.linear / linearBackward (and conv2d 1x1) vs the float64 oracle.
 * M, N, K are not multiples of the 64x64x16 tile; both tile heights (BM 32 and 64) run.
 * Tolerance 1e-5 relative (float32 sums of at most a few hundred products).
 */
class LinearParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(11); }

    @AfterAll static void close() { p.close(); }

    void linearCase(int n, int ci, int co, int h, int w, boolean bias, boolean conv4d) {
        String tag = "linear n" + n + " ci" + ci + " co" + co + " " + h + "x" + w;
        Tensor[] x = p.gaussT(n, ci, h, w);
        Tensor[] wt = conv4d ? p.gaussT(co, ci, 1, 1) : p.gaussT(co, ci);
        Tensor[] b = bias ? p.gaussT(co) : new Tensor[]{null, null};
        Tensor yc = p.cuda.linear(x[0], wt[0], b[0]), yr = p.ref.linear(x[1], wt[1], b[1]);
        p.check(tag + " y", yc, yr, TOL);
        Tensor[] dy = p.gaussT(n, co, h, w);
        Tensor[] gc = p.cuda.linearBackward(x[0], wt[0], dy[0], true, bias);
        Tensor[] gr = p.ref.linearBackward(x[1], wt[1], dy[1], true, bias);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dw", gc, gr, 1, TOL);
        if (bias) p.check(tag + " db", gc, gr, 2, TOL);
        else assertNull(gc[2]);
        Tensor[] g2 = p.cuda.linearBackward(x[0], wt[0], dy[0], false, bias);
        assertNull(g2[0]);
        p.check(tag + " dw (no dx)", g2[1], gr[1], TOL);
    }

    @Test void smallMBm32Tile() { linearCase(2, 5, 7, 13, 17, true, false); }

    @Test void largeMTwoRowTiles() { linearCase(2, 37, 70, 9, 11, true, false); }

    @Test void longKNoBias() { linearCase(1, 131, 33, 5, 3, false, false); }

    @Test void oneByOneConvWeight() { linearCase(2, 6, 40, 7, 9, true, true); }

    @Test void conv2dOneByOneRoutesToGemm() {
        Tensor[] x = p.gaussT(2, 9, 11, 6), w = p.gaussT(35, 9, 1, 1), b = p.gaussT(35);
        p.check("conv1x1 y", p.cuda.conv2d(x[0], w[0], b[0], 1, 0, false), p.ref.conv2d(x[1], w[1], b[1], 1, 0, false), TOL);
        Tensor[] dy = p.gaussT(2, 35, 11, 6);
        Tensor[] gc = p.cuda.conv2dBackward(x[0], w[0], dy[0], 1, 0, false, true, true);
        Tensor[] gr = p.ref.conv2dBackward(x[1], w[1], dy[1], 1, 0, false, true, true);
        for (int i = 0; i < 3; i++) p.check("conv1x1 grad " + i, gc, gr, i, TOL);
    }
}
