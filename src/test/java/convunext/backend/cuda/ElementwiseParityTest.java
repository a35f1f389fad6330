package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * elementwise.cu, gelu.cu and gate.cu vs the float64 oracle, plus the memory ops (fill, copy,
 * views). Tolerance 1e-5 relative (single float32 evaluations of erf, exp, tanh).
 */
class ElementwiseParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(51); }

    @AfterAll static void close() { p.close(); }

    @Test void gelu() {
        Tensor[] x = p.up(p.gauss(2 * 5 * 13 * 17, 3.0, 0.0), 2, 5, 13, 17);
        p.check("gelu y", p.cuda.gelu(x[0]), p.ref.gelu(x[1]), TOL);
        Tensor[] dy = p.gaussT(2, 5, 13, 17);
        p.check("gelu dx", p.cuda.geluBackward(x[0], dy[0]), p.ref.geluBackward(x[1], dy[1]), TOL);
    }

    @Test void addAndInPlace() {
        Tensor[] a = p.gaussT(2, 3, 7, 5), b = p.gaussT(2, 3, 7, 5);
        p.check("add", p.cuda.add(a[0], b[0]), p.ref.add(a[1], b[1]), TOL);
        p.cuda.addInPlace(a[0], b[0]);
        p.ref.addInPlace(a[1], b[1]);
        p.check("addInPlace", a[0], a[1], TOL);
        assertThrows(IllegalArgumentException.class, () -> p.cuda.add(a[0], p.cuda.zeros(2, 3, 7, 6)));
    }

    @Test void fillCopyAndViews() {
        Tensor base = p.cuda.upload(p.gauss(100), 100);
        Tensor v = p.cuda.view(base, 17, 5, 6);
        p.cuda.fill(v, 2.5f);
        float[] all = p.cuda.download(base);
        for (int i = 0; i < 100; i++)
            if (i >= 17 && i < 47) org.junit.jupiter.api.Assertions.assertEquals(2.5f, all[i], "filled " + i);
        p.cuda.fill(v, 0f);
        Tensor src = p.cuda.upload(p.gauss(30), 30);
        Tensor dst = p.cuda.view(base, 60, 30);
        p.cuda.copy(src, dst);
        float[] after = p.cuda.download(base);
        float[] want = p.cuda.download(src);
        for (int i = 0; i < 30; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(want[i], after[60 + i], "copied " + i);
            org.junit.jupiter.api.Assertions.assertEquals(0f, after[17 + i], "zero-filled " + i);
        }
        // a view of a view, and an op reading through a view offset
        Tensor vv = p.cuda.view(v, 5, 2, 3);
        Tensor g = p.cuda.gelu(p.cuda.view(base, 60, 30));
        Tensor gr = p.ref.gelu(p.ref.upload(want, 30));
        p.check("gelu through a view", g, gr, TOL);
        assertArrayEquals(new int[]{2, 3}, vv.shape());
        p.cuda.release(v);   // views are ignored
        p.cuda.release(base);
        assertThrows(IllegalArgumentException.class, () -> p.cuda.view(base, 90, 20));
    }

    @Test void gate() {
        int n = 2, c = 5, h = 7, w = 9;
        Tensor[] g = p.gaussT(n, 3 * c, h, w), s = p.gaussT(n, c, h, w), a = p.gaussT(n, c, h, w);
        p.check("gateIn", p.cuda.gateIn(g[0], s[0]), p.ref.gateIn(g[1], s[1]), TOL);
        p.check("gateOut", p.cuda.gateOut(a[0], s[0], g[0]), p.ref.gateOut(a[1], s[1], g[1]), TOL);
        Tensor[] dout = p.gaussT(n, c, h, w);
        Tensor[] gc = p.cuda.gateOutBackward(a[0], s[0], g[0], dout[0]);
        Tensor[] gr = p.ref.gateOutBackward(a[1], s[1], g[1], dout[1]);
        p.check("gateOut da", gc, gr, 0, TOL);
        p.check("gateOut ds", gc, gr, 1, TOL);
        p.check("gateOut dg", gc, gr, 2, TOL);
        p.check("gateIn dg", p.cuda.gateInBackward(dout[0], 3 * c), p.ref.gateInBackward(dout[1], 3 * c), TOL);
        assertThrows(IllegalArgumentException.class, () -> p.cuda.gateIn(s[0], s[0]));
    }
}
