package convunext.backend.cpu.ref;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RefConv2dTest {

    /** Gradient check of conv2d for one configuration; x [2,ci,h,w], w [co,ci,k,k]. */
    private static void gradCheck(long seed, int ci, int co, int h, int w, int k, int stride, int pad,
                                  boolean reflect, boolean bias) {
        Random rnd = new Random(seed);
        D x = D.uniform(rnd, -1, 1, 2, ci, h, w);
        D wt = D.uniform(rnd, -1, 1, co, ci, k, k);
        D b = bias ? D.uniform(rnd, -1, 1, co) : null;
        D y = RefConv2d.conv2d(x, wt, b, stride, pad, reflect);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefConv2d.conv2dBackward(x, wt, r, stride, pad, reflect, true, bias);
        String op = "conv2d k" + k + " s" + stride + " p" + pad + (reflect ? " reflect" : " zero");
        if (bias) {
            GradCheck.check(op, new String[] {"x", "w", "b"}, new D[] {x, wt, b},
                    in -> RefConv2d.conv2d(in[0], in[1], in[2], stride, pad, reflect), r, g);
        } else {
            assertNull(g[2], "db must be null without bias");
            GradCheck.check(op, new String[] {"x", "w"}, new D[] {x, wt},
                    in -> RefConv2d.conv2d(in[0], in[1], null, stride, pad, reflect), r, new D[] {g[0], g[1]});
        }
    }

    @Test void stem7x7ReflectPad3() { gradCheck(1, 3, 4, 9, 11, 7, 1, 3, true, true); }

    @Test void down2x2Stride2() { gradCheck(2, 3, 5, 9, 11, 2, 2, 0, false, true); }

    @Test void pointwise1x1() { gradCheck(3, 3, 4, 9, 11, 1, 1, 0, false, true); }

    @Test void zeroPadded3x3() { gradCheck(4, 3, 2, 9, 11, 3, 1, 1, false, true); }

    @Test void noBiasStride2Reflect3x3() { gradCheck(5, 2, 3, 7, 6, 3, 2, 1, true, false); }

    @Test void needDxFalseGivesNullDx() {
        Random rnd = new Random(6);
        D x = D.uniform(rnd, -1, 1, 1, 2, 5, 5), w = D.uniform(rnd, -1, 1, 3, 2, 3, 3);
        D dy = D.uniform(rnd, -1, 1, 1, 3, 5, 5);
        D[] g = RefConv2d.conv2dBackward(x, w, dy, 1, 1, true, false, true);
        assertNull(g[0]);
        D[] full = RefConv2d.conv2dBackward(x, w, dy, 1, 1, true, true, true);
        assertEquals(0, g[1].maxAbsDiff(full[1]));
        assertEquals(0, g[2].maxAbsDiff(full[2]));
    }

    @Test void reflectIndicesAsPyTorch() {
        assertEquals(1, RefConv2d.source(-1, 5, true));
        assertEquals(3, RefConv2d.source(-3, 5, true));
        assertEquals(3, RefConv2d.source(5, 5, true));   // H → H−2
        assertEquals(1, RefConv2d.source(7, 5, true));   // H+2 → H−4
        assertEquals(2, RefConv2d.source(2, 5, true));
        assertEquals(-1, RefConv2d.source(-1, 5, false));
        assertEquals(-1, RefConv2d.source(5, 5, false));
    }

    @Test void reflectForward1DByHand() {
        // 3 rows of the same [2 3 7]; kernel [0 0 0; 1 10 100; 0 0 0] picks the middle row.
        double[] xs = {2, 3, 7, 2, 3, 7, 2, 3, 7};
        D x = new D(xs, 1, 1, 3, 3);
        D w = new D(new double[] {0, 0, 0, 1, 10, 100, 0, 0, 0}, 1, 1, 3, 3);
        D y = RefConv2d.conv2d(x, w, new D(new double[] {0.5}, 1), 1, 1, true);
        // padded row [3 2 3 7 3]: out0 = 3+20+300, out1 = 2+30+700, out2 = 3+70+300
        double[] row = {323.5, 732.5, 373.5};
        for (int yy = 0; yy < 3; yy++)
            for (int xx = 0; xx < 3; xx++) assertEquals(row[xx], y.get(0, 0, yy, xx), 0);
        D z = RefConv2d.conv2d(x, w, null, 1, 1, false);
        double[] zrow = {0 + 20 + 300, 2 + 30 + 700, 3 + 70 + 0};
        for (int xx = 0; xx < 3; xx++) assertEquals(zrow[xx], z.get(0, 0, 1, xx), 0);
    }

    @Test void gradCheckCatchesAWrongGradient() {
        Random rnd = new Random(7);
        D x = D.uniform(rnd, -1, 1, 1, 2, 4, 5), w = D.uniform(rnd, -1, 1, 2, 2, 3, 3);
        D y = RefConv2d.conv2d(x, w, null, 1, 1, true);
        D r = GradCheck.weights(rnd, y);
        D[] g = RefConv2d.conv2dBackward(x, w, r, 1, 1, true, true, false);
        g[1].data[5] += 1e-4;
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.check("conv2d", new String[] {"x", "w"},
                new D[] {x, w}, in -> RefConv2d.conv2d(in[0], in[1], null, 1, 1, true), r, new D[] {g[0], g[1]}));
        assertTrue(e.getMessage().contains("d/d w at flat index 5"), e.getMessage());
    }
}
