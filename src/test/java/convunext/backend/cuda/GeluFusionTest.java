package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * CudaBackend's fused GELU paths (gemm.cu's GELU epilogues for linearGelu /
 * linearBackwardDataGelu, gelu.cu's add_gelu_forward for addGelu) against the composition
 * ({@code -Dconvunext.cuda.fuseGelu=false}: the GEMM or add, then gelu.cu).
 */
class GeluFusionTest {
    private final Random rnd = new Random(23);

    private float[] gauss(int n, double scale, double shift) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale + shift);
        return a;
    }

    @Test void fusedUnlessSwitchedOff() {
        try (CudaBackend be = CudaBackend.open(Parity.DEVICE)) {
            assertEquals(!"false".equalsIgnoreCase(System.getProperty("convunext.cuda.fuseGelu", "true")), be.fusesGelu());
        }
    }

    /**
     * The fused linear ops equal the composition to float32 rounding. Without cuBLAS both run the
     * same tile in the same summation order, so only FMA contraction may differ (1e-6 relative);
     * with cuBLAS the composition's GEMM sums in another order (the plain GEMM tolerance, 1e-5).
     */
    @Test void linearGeluFusedEqualsComposition() {
        try (CudaBackend fused = new CudaBackend(Devices.open(Parity.DEVICE), true);
             CudaBackend comp = new CudaBackend(Devices.open(Parity.DEVICE), false)) {
            assertTrue(fused.fusesGelu());
            assertFalse(comp.fusesGelu());
            double tol = comp.cublas() == null ? 1e-6 : 1e-5;
            int n = 2, ci = 9, h = 11, w = 7;
            for (int co : new int[]{24, 52}) {   // BM 32 and 64
                String tag = "fused vs composed co" + co;
                float[] xd = gauss(n * ci * h * w, 1, 0), w1d = gauss(co * ci, 1, 0), bd = gauss(co, 1, 0);
                float[] w2d = gauss(ci * co, 1, 0), dyd = gauss(n * ci * h * w, 1, 0);
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

    /**
     * The fused add + GELU equals add + gelu_forward to float rounding: the same float sum, the
     * same cu_gelu; within 1e-6 (kernels/README rule 7: contraction may differ between kernels;
     * on the emulator they agree bit for bit).
     */
    @Test void addGeluFusedEqualsComposition() {
        try (CudaBackend fused = new CudaBackend(Devices.open(Parity.DEVICE), true);
             CudaBackend comp = new CudaBackend(Devices.open(Parity.DEVICE), false)) {
            int n = 2, c = 7, h = 9, w = 11;
            float[] ad = gauss(n * c * h * w, 2.0, -0.5), bd = gauss(n * c * h * w, 1, 0);
            for (boolean keepPre : new boolean[]{true, false}) {
                String tag = "fused vs composed" + (keepPre ? " keepPre" : "");
                Tensor[] f = fused.addGelu(fused.upload(ad, n, c, h, w), fused.upload(bd, n, c, h, w), keepPre);
                Tensor[] k = comp.addGelu(comp.upload(ad, n, c, h, w), comp.upload(bd, n, c, h, w), keepPre);
                near(tag + " out", fused.download(f[0]), comp.download(k[0]), 1e-6);
                if (keepPre) {
                    near(tag + " pre", fused.download(f[1]), comp.download(k[1]), 0);
                } else {
                    assertNull(f[1], tag + ": fused pre must be null unless kept");
                    assertNull(k[1], tag + ": composed pre must be null unless kept");
                }
            }
            assertTrue(fused.fusesGelu());
            assertFalse(comp.fusesGelu());
        }
    }

    private static void near(String what, float[] got, float[] want, double tol) {
        double e = BackendParity.relErr(got, want);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }
}
