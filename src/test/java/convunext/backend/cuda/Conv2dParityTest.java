package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * conv2d.cu (implicit-GEMM forward and weight gradient, gather data gradient with the
 * reflect/zero padding adjoint) vs the float64 oracle. Tolerance 1e-5 relative.
 */
class Conv2dParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(21); }

    @AfterAll static void close() { p.close(); }

    void convCase(int n, int ci, int co, int h, int w, int k, int s, int pad, boolean reflect, boolean bias) {
        String tag = "conv " + k + "x" + k + " s" + s + " p" + pad + (reflect ? " reflect" : " zero") + " ci" + ci + " co" + co
                + " " + h + "x" + w;
        Tensor[] x = p.gaussT(n, ci, h, w), wt = p.gaussT(co, ci, k, k);
        Tensor[] b = bias ? p.gaussT(co) : new Tensor[]{null, null};
        Tensor yc = p.cuda.conv2d(x[0], wt[0], b[0], s, pad, reflect), yr = p.ref.conv2d(x[1], wt[1], b[1], s, pad, reflect);
        p.check(tag + " y", yc, yr, TOL);
        Tensor[] dy = p.up(p.gauss((int) yr.numel()), yr.shape());
        Tensor[] gc = p.cuda.conv2dBackward(x[0], wt[0], dy[0], s, pad, reflect, true, bias);
        Tensor[] gr = p.ref.conv2dBackward(x[1], wt[1], dy[1], s, pad, reflect, true, bias);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dw", gc, gr, 1, TOL);
        if (bias) p.check(tag + " db", gc, gr, 2, TOL);
        else assertNull(gc[2]);
    }

    @Test void stem7x7Reflect() { convCase(2, 3, 9, 13, 17, 7, 1, 3, true, true); }

    @Test void stem7x7ReflectWideCo() { convCase(1, 3, 40, 9, 8, 7, 1, 3, true, true); }

    @Test void down2x2Stride2OddSize() { convCase(2, 5, 11, 13, 17, 2, 2, 0, false, true); }

    @Test void down2x2Stride2ManyChannels() { convCase(1, 36, 70, 6, 10, 2, 2, 0, false, true); }

    @Test void zeroPad3x3() { convCase(2, 4, 6, 7, 9, 3, 1, 1, false, false); }

    @Test void reflect5x5Stride2() { convCase(1, 2, 5, 11, 8, 5, 2, 2, true, true); }

    @Test void reflectPadNearlyH() { convCase(1, 2, 3, 4, 5, 3, 1, 3, true, true); }

    @Test void noDxRequested() {
        Tensor[] x = p.gaussT(1, 3, 8, 9), wt = p.gaussT(4, 3, 7, 7), dy = p.gaussT(1, 4, 8, 9);
        Tensor[] gc = p.cuda.conv2dBackward(x[0], wt[0], dy[0], 1, 3, true, false, false);
        Tensor[] gr = p.ref.conv2dBackward(x[1], wt[1], dy[1], 1, 3, true, false, false);
        assertNull(gc[0]);
        assertNull(gc[2]);
        p.check("stem dw only", gc, gr, 1, TOL);
    }
}
