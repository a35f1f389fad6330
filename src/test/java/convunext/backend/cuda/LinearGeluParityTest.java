package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gemm.cu's GELU epilogues through CudaBackend.linearGelu / linearBackwardDataGelu vs the float64
 * oracle (RefLinearGelu) on odd sizes: both tile heights (M = Co, the hidden channels, for both
 * kernels: BM 32 when Co <= 32, else 64), pre kept or not, with and without bias. Tolerance 1e-5
 * relative, as the plain GEMMs. Then the fused ops against the composition path
 * ({@code -Dconvunext.cuda.fuseGelu=false}: linear / its data gradient, then gelu.cu).
 */
class LinearGeluParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(23); }

    @AfterAll static void close() { p.close(); }

    /** x [n,ci,h,w] -> hidden [n,co,h,w] (pwconv1 + GELU); backward through w2 [co2,co] (pwconv2). */
    void fusedCase(int n, int ci, int co, int co2, int h, int w, boolean bias, boolean keepPre) {
        String tag = "linearGelu n" + n + " ci" + ci + " co" + co + " co2 " + co2 + " " + h + "x" + w
                + (bias ? " bias" : "") + (keepPre ? " keepPre" : "");
        Tensor[] x = p.gaussT(n, ci, h, w), w1 = p.gaussT(co, ci);
        Tensor[] b = bias ? p.gaussT(co) : new Tensor[]{null, null};
        Tensor[] hc = p.cuda.linearGelu(x[0], w1[0], b[0], keepPre), hr = p.ref.linearGelu(x[1], w1[1], b[1], keepPre);
        p.check(tag + " h", hc, hr, 0, TOL);
        if (keepPre) p.check(tag + " pre", hc, hr, 1, TOL);
        else assertNull(hc[1], tag + ": pre must be null unless kept");
        // pre scaled by 2 so that gelu' covers its whole range (about -0.13 .. 1.13)
        Tensor[] w2 = p.gaussT(co2, co), dy = p.gaussT(n, co2, h, w);
        Tensor[] pre = p.up(p.gauss(n * co * h * w, 2.0, 0.0), n, co, h, w);
        p.check(tag + " dpre", p.cuda.linearBackwardDataGelu(w2[0], dy[0], pre[0]),
                p.ref.linearBackwardDataGelu(w2[1], dy[1], pre[1]), TOL);
    }

    @Test void bm32BiasKeepPre() { fusedCase(2, 5, 7, 9, 13, 17, true, true); }

    @Test void bm32NoBiasNoPre() { fusedCase(1, 3, 31, 6, 9, 7, false, false); }

    @Test void bm64TwoRowTilesNoBiasKeepPre() { fusedCase(2, 37, 70, 19, 9, 11, false, true); }

    @Test void bm64JustOver32BiasNoPre() { fusedCase(3, 11, 33, 5, 5, 13, true, false); }

    @Test void level0Channels() { fusedCase(1, 32, 128, 32, 7, 9, true, true); }   // 32 -> 128 -> 32

    @Test void fusedUnlessSwitchedOff() {
        assertEquals(!"false".equalsIgnoreCase(System.getProperty("convunext.cuda.fuseGelu", "true")), p.cuda.fusesGelu());
    }

    /**
     * The fused ops equal the composition to float32 rounding. Without cuBLAS both run the same
     * tile in the same summation order, so only FMA contraction may differ (1e-6 relative); with
     * cuBLAS the composition's GEMM sums in another order (the plain GEMM tolerance, 1e-5).
     */
    @Test void fusedEqualsComposition() {
        String kind = System.getProperty("convunext.test.device", "emulated");
        try (CudaBackend fused = new CudaBackend(Devices.open(kind), true);
             CudaBackend comp = new CudaBackend(Devices.open(kind), false)) {
            assertTrue(fused.fusesGelu());
            assertFalse(comp.fusesGelu());
            double tol = comp.cublas() == null ? 1e-6 : 1e-5;
            int n = 2, ci = 9, h = 11, w = 7;
            for (int co : new int[]{24, 52}) {   // BM 32 and 64
                String tag = "fused vs composed co" + co;
                float[] xd = p.gauss(n * ci * h * w), w1d = p.gauss(co * ci), bd = p.gauss(co);
                float[] w2d = p.gauss(ci * co), dyd = p.gauss(n * ci * h * w);
                Tensor[] f = fused.linearGelu(fused.upload(xd, n, ci, h, w), fused.upload(w1d, co, ci),
                        fused.upload(bd, co), true);
                Tensor[] c = comp.linearGelu(comp.upload(xd, n, ci, h, w), comp.upload(w1d, co, ci), comp.upload(bd, co), true);
                near(tag + " h", fused.download(f[0]), comp.download(c[0]), tol);
                near(tag + " pre", fused.download(f[1]), comp.download(c[1]), tol);
                // the backward on the forward's own pre (equal inputs on both paths)
                float[] pre = fused.download(f[1]);
                Tensor df = fused.linearBackwardDataGelu(fused.upload(w2d, ci, co), fused.upload(dyd, n, ci, h, w),
                        fused.upload(pre, n, co, h, w));
                Tensor dc = comp.linearBackwardDataGelu(comp.upload(w2d, ci, co), comp.upload(dyd, n, ci, h, w),
                        comp.upload(pre, n, co, h, w));
                near(tag + " dpre", fused.download(df), comp.download(dc), tol);
                Tensor[] fn = fused.linearGelu(fused.upload(xd, n, ci, h, w), fused.upload(w1d, co, ci), fused.upload(bd, co), false);
                Tensor[] cn = comp.linearGelu(comp.upload(xd, n, ci, h, w), comp.upload(w1d, co, ci), comp.upload(bd, co), false);
                assertNull(fn[1], tag + ": fused pre must be null unless kept");
                assertNull(cn[1], tag + ": composed pre must be null unless kept");
                near(tag + " h (no pre)", fused.download(fn[0]), comp.download(cn[0]), tol);
            }
        }
    }

    private static void near(String what, float[] got, float[] want, double tol) {
        double e = Parity.relErr(got, want);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }
}
