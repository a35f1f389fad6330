package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * linear forward and backward on every backend against the float64 oracle. M, N, K are not
 * multiples of any tile (CPU 6×32 register tiles, gemm.cu's 64×64×16 and its BM 32 variant for
 * M ≤ 32); H·W ≥ 512 takes the CPU's long-K dot-product path for dW; a 1×1 conv weight
 * [Co,Ci,1,1] is accepted like [Co,Ci]. Tolerance 1e-5 normwise (float32 sums of at most a few
 * hundred products).
 */
class LinearParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    @OnEveryBackend void oddSizes(String b) throws Exception { linear(b, 1, 2, 37, 19, 13, 23, true, true, false); }

    @OnEveryBackend void noBiasNoDx(String b) throws Exception { linear(b, 2, 2, 19, 37, 7, 11, false, false, false); }

    @OnEveryBackend void longSpatial(String b) throws Exception { linear(b, 3, 2, 33, 70, 29, 31, true, true, false); }

    @OnEveryBackend void smallMBm32Tile(String b) throws Exception { linear(b, 11, 2, 5, 7, 13, 17, true, true, false); }

    @OnEveryBackend void largeMTwoRowTiles(String b) throws Exception { linear(b, 12, 2, 37, 70, 9, 11, true, true, false); }

    @OnEveryBackend void longKNoBias(String b) throws Exception { linear(b, 13, 1, 131, 33, 5, 3, false, true, false); }

    @OnEveryBackend void oneByOneConvWeight(String b) throws Exception { linear(b, 14, 2, 6, 40, 7, 9, true, true, true); }

    private static void linear(String backend, long seed, int n, int ci, int co, int h, int w, boolean bias, boolean needDx,
                               boolean conv4d) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "linear " + n + "x" + ci + "→" + co + " @" + h + "x" + w + (bias ? " bias" : "") + (conv4d ? " w[Co,Ci,1,1]" : "");
            Tensor[] x = p.normalT(1, 0.2, n, ci, h, w);
            Tensor[] wt = conv4d ? p.gaussT(co, ci, 1, 1) : p.gaussT(co, ci);
            Tensor[] b = bias ? p.gaussT(co) : new Tensor[] {null, null};
            p.check(tag + " y", p.be.linear(x[0], wt[0], b[0]), p.ref.linear(x[1], wt[1], b[1]), TOL);
            Tensor[] dy = p.normalT(1, 0.1, n, co, h, w);
            Tensor[] got = p.be.linearBackward(x[0], wt[0], dy[0], needDx, bias);
            Tensor[] ref = p.ref.linearBackward(x[1], wt[1], dy[1], needDx, bias);
            if (needDx) p.check(tag + " dx", got, ref, 0, TOL); else assertNull(got[0], tag + ": dx not requested");
            p.check(tag + " dw", got, ref, 1, TOL);
            if (bias) p.check(tag + " db", got, ref, 2, TOL); else assertNull(got[2], tag + ": no bias");
            if (needDx) {   // the weight gradient alone (the stem's case: no dx)
                Tensor[] g2 = p.be.linearBackward(x[0], wt[0], dy[0], false, bias);
                assertNull(g2[0], tag + ": dx not requested");
                p.check(tag + " dw (no dx)", g2[1], ref[1], TOL);
            }
        }
    }
}
