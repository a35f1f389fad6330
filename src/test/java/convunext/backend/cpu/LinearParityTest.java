package convunext.backend.cpu;

import static convunext.backend.cpu.Parity.*;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefLinear;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** linear forward and backward against RefLinear; tolerance 1e-5 normwise (float GEMM sums). */
class LinearParityTest {
    private static final double TOL = 1e-5;

    @Test void oddSizes() { run(2, 37, 19, 13, 23, true, true, 1); }

    @Test void noBiasNoDx() { run(2, 19, 37, 7, 11, false, false, 2); }

    /** H·W ≥ 512 takes the long-K dot-product path for dW; Co, Ci cross the register tiles. */
    @Test void longSpatial() { run(2, 33, 70, 29, 31, true, true, 3); }

    private static void run(int n, int ci, int co, int h, int w, boolean bias, boolean needDx, long seed) {
        Random r = new Random(seed);
        Tensor x = randn(r, 0.2, n, ci, h, w), wt = randn(r, 0, co, ci), b = bias ? randn(r, 0, co) : null;
        Tensor dy = randn(r, 0.1, n, co, h, w);
        check("linear y", RefLinear.linear(d(x), d(wt), d(b)), BE.linear(x, wt, b), TOL);
        D[] ref = RefLinear.linearBackward(d(x), d(wt), d(dy), needDx, bias);
        Tensor[] got = BE.linearBackward(x, wt, dy, needDx, bias);
        if (needDx) check("linear dx", ref[0], got[0], TOL); else assertNull(got[0]);
        check("linear dw", ref[1], got[1], TOL);
        if (bias) check("linear db", ref[2], got[2], TOL); else assertNull(got[2]);
    }

    @Test void shapeMismatchNamesOp() {
        Random r = new Random(4);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> BE.linear(randn(r, 0, 1, 3, 2, 2), randn(r, 0, 4, 5), null));
        org.junit.jupiter.api.Assertions.assertTrue(ex.getMessage().startsWith("linear"));
    }
}
