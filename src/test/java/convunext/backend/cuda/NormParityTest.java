package convunext.backend.cuda;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * batchnorm.cu and layernorm.cu vs the float64 oracle: training statistics and running-stat
 * update, eval mode, and both backwards. Inputs carry a non-zero mean so centring matters.
 * Tolerance 1e-4 relative (normalised outputs; float32 per-element arithmetic).
 */
class NormParityTest {
    static Parity p;
    static final double TOL = 1e-4;

    @BeforeAll static void open() { p = new Parity(41); }

    @AfterAll static void close() { p.close(); }

    void bnCase(int n, int c, int h, int w) {
        String tag = "batchnorm " + n + "x" + c + "x" + h + "x" + w;
        int sz = n * c * h * w;
        Tensor[] x = p.up(p.gauss(sz, 2.0, 0.7), n, c, h, w);
        Tensor[] g = p.up(p.gauss(c, 0.5, 1.0), c), b = p.gaussT(c);
        float[] rm0 = p.gauss(c), rv0 = p.uniform(c, 0.5, 2.0);
        Tensor[] rm = p.up(rm0, c), rv = p.up(rv0, c);
        Tensor[] rc = p.cuda.batchnormTrain(x[0], g[0], b[0], rm[0], rv[0], 0.1f, 1e-5f);
        Tensor[] rr = p.ref.batchnormTrain(x[1], g[1], b[1], rm[1], rv[1], 0.1f, 1e-5f);
        p.check(tag + " y", rc, rr, 0, TOL);
        p.check(tag + " mean", rc, rr, 1, TOL);
        p.check(tag + " invstd", rc, rr, 2, TOL);
        p.check(tag + " running_mean", rm[0], rm[1], TOL);
        p.check(tag + " running_var", rv[0], rv[1], TOL);
        p.check(tag + " eval", p.cuda.batchnormEval(x[0], g[0], b[0], rm[0], rv[0], 1e-5f),
                p.ref.batchnormEval(x[1], g[1], b[1], rm[1], rv[1], 1e-5f), TOL);
        Tensor[] dy = p.gaussT(n, c, h, w);
        Tensor[] gc = p.cuda.batchnormBackward(x[0], dy[0], g[0], rc[1], rc[2]);
        Tensor[] gr = p.ref.batchnormBackward(x[1], dy[1], g[1], rr[1], rr[2]);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dgamma", gc, gr, 1, TOL);
        p.check(tag + " dbeta", gc, gr, 2, TOL);
    }

    @Test void batchnormOdd() { bnCase(2, 5, 13, 17); }

    @Test void batchnormManyChunks() { bnCase(3, 2, 31, 29); }

    void lnCase(int n, int c, int h, int w) {
        String tag = "layernorm " + n + "x" + c + "x" + h + "x" + w;
        Tensor[] x = p.up(p.gauss(n * c * h * w, 1.5, -0.4), n, c, h, w);
        Tensor[] g = p.up(p.gauss(c, 0.5, 1.0), c), b = p.gaussT(c);
        Tensor[] rc = p.cuda.layernorm(x[0], g[0], b[0], 1e-6f), rr = p.ref.layernorm(x[1], g[1], b[1], 1e-6f);
        p.check(tag + " y", rc, rr, 0, TOL);
        p.check(tag + " mean", rc, rr, 1, TOL);
        p.check(tag + " invstd", rc, rr, 2, TOL);
        Tensor[] dy = p.gaussT(n, c, h, w);
        Tensor[] gc = p.cuda.layernormBackward(x[0], dy[0], g[0], rc[1], rc[2]);
        Tensor[] gr = p.ref.layernormBackward(x[1], dy[1], g[1], rr[1], rr[2]);
        p.check(tag + " dx", gc, gr, 0, TOL);
        p.check(tag + " dgamma", gc, gr, 1, TOL);
        p.check(tag + " dbeta", gc, gr, 2, TOL);
    }

    @Test void layernormOdd() { lnCase(2, 5, 13, 17); }

    @Test void layernormWideC() { lnCase(1, 67, 5, 9); }
}
