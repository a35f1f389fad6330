package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The GELU-epilogue GEMMs (linearGelu: pwconv1 → GELU; linearBackwardDataGelu: pwconv2's data
 * gradient → GELU') on every backend against the float64 oracle, pre kept or not, with and
 * without bias: both gemm.cu tile heights (M = Co, BM 32 when Co ≤ 32, else 64), the CPU's
 * MC/NC/KC blocks (Ci or Co > 256: two K blocks; Co > 144: two M blocks; H·W > 512: two N
 * blocks), one pixel with Ci ≥ 512. Tolerance 1e-5 normwise as for linear (GELU's own error is
 * ~1e-7 relative). Weights are scaled by 1/√Ci so pre ~ N(·, 1) covers GELU's curved part and
 * both tails; pre for the backward is N(0, 2²), so gelu' covers its whole range (−0.13 … 1.13).
 */
class LinearGeluParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double TOL = 1e-5;

    @OnEveryBackend void bm32BiasKeepPre(String b) throws Exception { fused(b, 1, 2, 5, 7, 9, 13, 17, true, true); }

    @OnEveryBackend void bm32NoBiasNoPre(String b) throws Exception { fused(b, 2, 1, 3, 31, 6, 9, 7, false, false); }

    @OnEveryBackend void bm64TwoRowTilesNoBiasKeepPre(String b) throws Exception { fused(b, 3, 2, 37, 70, 19, 9, 11, false, true); }

    @OnEveryBackend void bm64JustOver32BiasNoPre(String b) throws Exception { fused(b, 4, 3, 11, 33, 5, 5, 13, true, false); }

    @OnEveryBackend void level0Channels(String b) throws Exception { fused(b, 5, 1, 32, 128, 32, 7, 9, true, true); }

    @OnEveryBackend void oddSizes(String b) throws Exception { fused(b, 6, 2, 37, 19, 37, 5, 7, true, true); }

    @OnEveryBackend void blocksSplitOverN(String b) throws Exception { fused(b, 7, 2, 301, 151, 301, 23, 29, true, true); }

    @OnEveryBackend void blocksSplitOverM(String b) throws Exception { fused(b, 8, 1, 263, 307, 263, 7, 9, false, true); }

    @OnEveryBackend void dotPathLayout(String b) throws Exception { fused(b, 9, 3, 600, 37, 600, 1, 1, true, false); }

    /** x [n,ci,h,w] → hidden [n,co,h,w] (pwconv1 + GELU); backward through w2 [co2,co] (pwconv2). */
    private static void fused(String backend, long seed, int n, int ci, int co, int co2, int h, int w, boolean bias,
                              boolean keepPre) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "linearGelu " + n + "x" + ci + "→" + co + "→" + co2 + " @" + h + "x" + w + (bias ? " bias" : "")
                    + (keepPre ? " keepPre" : "");
            Tensor[] x = p.normalT(1, 0.2, n, ci, h, w), w1 = p.normalT(1 / Math.sqrt(ci), 0, co, ci);
            Tensor[] b = bias ? p.normalT(1, 0.1, co) : new Tensor[] {null, null};
            Tensor[] hb = p.be.linearGelu(x[0], w1[0], b[0], keepPre), hr = p.ref.linearGelu(x[1], w1[1], b[1], true);
            p.check(tag + " h", hb, hr, 0, TOL);
            if (keepPre) p.check(tag + " pre", hb, hr, 1, TOL); else assertNull(hb[1], tag + ": pre must be null unless kept");
            Tensor[] w2 = p.gaussT(co2, co), dy = p.normalT(1, 0.1, n, co2, h, w), pre = p.normalT(2, 0, n, co, h, w);
            p.check(tag + " dpre", p.be.linearBackwardDataGelu(w2[0], dy[0], pre[0]),
                    p.ref.linearBackwardDataGelu(w2[1], dy[1], pre[1]), TOL);
        }
    }

    /** A 1×1 conv weight [Co, Ci, 1, 1] is accepted like [Co, Ci]. */
    @OnEveryBackend void convWeightLayout(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 10)) {
            Tensor[] x = p.gaussT(2, 13, 6, 5), wt = p.normalT(1 / Math.sqrt(13), 0, 21, 13), bias = p.gaussT(21);
            Tensor w4 = p.be.view(wt[0], 0, 21, 13, 1, 1);
            p.check("linearGelu w[Co,Ci,1,1]", p.be.linearGelu(x[0], w4, bias[0], false)[0],
                    p.ref.linearGelu(x[1], wt[1], bias[1], false)[0], TOL);
        }
    }
}
