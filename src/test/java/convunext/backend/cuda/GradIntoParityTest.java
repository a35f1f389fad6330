package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The backward ops that add into gradients already held ({@code Backend.*Into}: the data GEMM's
 * epilogue, the weight reduce, dwconv7's kernels, BatchNorm's apply, gate_backward_in add in
 * place on the CUDA backend) vs the float64 oracle's composition (plain backward, then add), on
 * random non-zero "already held" gradients: every sink comes back as the same tensor holding
 * base + gradient, and a null sink is computed fresh. Tolerances as the ops' own parity tests
 * (1e-5 relative; BatchNorm 1e-4 as NormParityTest).
 */
class GradIntoParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(51); }

    @AfterAll static void close() { p.close(); }

    /** {cuda, ref} copies of a random "gradient already held" of this shape. */
    Tensor[] held(int... shape) { return p.gaussT(shape); }

    void checkSlots(String tag, Tensor[] gc, Tensor[] gr, Tensor[][] sinks, double tol) {
        for (int i = 0; i < gc.length; i++) {
            if (gr[i] == null) continue;
            if (sinks[i] != null) assertSame(sinks[i][0], gc[i], tag + " slot " + i + " is the sink");
            p.check(tag + " slot " + i, gc[i], gr[i], tol);
        }
    }

    @Test void linearAllSinks() {
        Tensor[] x = p.gaussT(2, 13, 5, 7), w = p.gaussT(20, 13), dy = p.gaussT(2, 20, 5, 7);
        Tensor[][] s = {held(2, 13, 5, 7), held(20, 13), held(20)};
        Tensor[] gc = p.cuda.linearBackwardInto(x[0], w[0], dy[0], true, true, s[0][0], s[1][0], s[2][0]);
        Tensor[] gr = p.ref.linearBackwardInto(x[1], w[1], dy[1], true, true, s[0][1], s[1][1], s[2][1]);
        checkSlots("linear into", gc, gr, s, TOL);
    }

    @Test void linearWeightSinkOnlyAligned() {
        Tensor[] x = p.gaussT(1, 32, 8, 8), w = p.gaussT(128, 32), dy = p.gaussT(1, 128, 8, 8);
        Tensor[][] s = {null, held(128, 32), null};
        Tensor[] gc = p.cuda.linearBackwardInto(x[0], w[0], dy[0], true, true, null, s[1][0], null);
        Tensor[] gr = p.ref.linearBackwardInto(x[1], w[1], dy[1], true, true, null, s[1][1], null);
        checkSlots("linear dw into", gc, gr, s, TOL);
        assertNotSame(x[0], gc[0]);
    }

    @Test void conv2dPointwiseAndStrided() {
        Tensor[] x = p.gaussT(2, 6, 6, 8), w = p.gaussT(9, 6, 1, 1), dy = p.gaussT(2, 9, 6, 8);
        Tensor[][] s = {held(2, 6, 6, 8), held(9, 6, 1, 1), held(9)};
        Tensor[] gc = p.cuda.conv2dBackwardInto(x[0], w[0], dy[0], 1, 0, false, true, true, s[0][0], s[1][0], s[2][0]);
        Tensor[] gr = p.ref.conv2dBackwardInto(x[1], w[1], dy[1], 1, 0, false, true, true, s[0][1], s[1][1], s[2][1]);
        checkSlots("conv1x1 into", gc, gr, s, TOL);
        Tensor[] w2 = p.gaussT(10, 6, 2, 2), dy2 = p.gaussT(2, 10, 3, 4);
        Tensor[][] s2 = {held(2, 6, 6, 8), held(10, 6, 2, 2), held(10)};
        gc = p.cuda.conv2dBackwardInto(x[0], w2[0], dy2[0], 2, 0, false, true, true, s2[0][0], s2[1][0], s2[2][0]);
        gr = p.ref.conv2dBackwardInto(x[1], w2[1], dy2[1], 2, 0, false, true, true, s2[0][1], s2[1][1], s2[2][1]);
        checkSlots("conv2x2 into", gc, gr, s2, TOL);
    }

    @Test void dwconv7() {
        Tensor[] x = p.gaussT(2, 3, 11, 9), w = p.gaussT(3, 1, 7, 7), dy = p.gaussT(2, 3, 11, 9);
        Tensor[][] s = {held(2, 3, 11, 9), held(3, 1, 7, 7), held(3)};
        Tensor[] gc = p.cuda.dwconv7BackwardInto(x[0], w[0], dy[0], s[0][0], s[1][0], s[2][0]);
        Tensor[] gr = p.ref.dwconv7BackwardInto(x[1], w[1], dy[1], s[0][1], s[1][1], s[2][1]);
        checkSlots("dwconv7 into", gc, gr, s, TOL);
    }

    @Test void batchnorm() {
        Tensor[] x = p.up(p.gauss(2 * 4 * 9 * 8, 2.0, 0.5), 2, 4, 9, 8), dy = p.gaussT(2, 4, 9, 8);
        Tensor[] g = p.up(p.uniform(4, 0.5, 1.5), 4), b = p.gaussT(4);
        Tensor[] rmc = {p.cuda.zeros(4), p.ref.zeros(4)}, rv = p.up(new float[]{1, 1, 1, 1}, 4);
        Tensor[] fc = p.cuda.batchnormTrain(x[0], g[0], b[0], rmc[0], rv[0], 0.1f, 1e-5f);
        Tensor[] fr = p.ref.batchnormTrain(x[1], g[1], b[1], rmc[1], rv[1], 0.1f, 1e-5f);
        Tensor[][] s = {held(2, 4, 9, 8), held(4), held(4)};
        Tensor[] gc = p.cuda.batchnormBackwardInto(x[0], dy[0], g[0], fc[1], fc[2], s[0][0], s[1][0], s[2][0]);
        Tensor[] gr = p.ref.batchnormBackwardInto(x[1], dy[1], g[1], fr[1], fr[2], s[0][1], s[1][1], s[2][1]);
        checkSlots("batchnorm into", gc, gr, s, 1e-4);
    }

    @Test void gateIn() {
        Tensor[] du = p.gaussT(2, 3, 4, 5);
        Tensor[][] s = {held(2, 9, 4, 5)};
        Tensor gc = p.cuda.gateInBackwardInto(du[0], 9, s[0][0]);
        Tensor gr = p.ref.gateInBackwardInto(du[1], 9, s[0][1]);
        assertSame(s[0][0], gc);
        p.check("gateIn into", gc, gr, 1e-6);
        p.check("gateIn fresh", p.cuda.gateInBackwardInto(du[0], 9, null), p.ref.gateInBackward(du[1], 9), 0);
    }
}
