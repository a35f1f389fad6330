package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gelu.cu's add_gelu_forward through CudaBackend.addGelu vs the float64 oracle (RefAddGelu) on odd
 * sizes, pre kept or not: out within 1e-5 relative (as gelu), pre within 1e-7 (one float add).
 * Then the fused op against the composition ({@code -Dconvunext.cuda.fuseGelu=false}: add, then
 * gelu_forward), which computes the same float sum and the same cu_gelu: within 1e-6 (kernels/README
 * rule 7: contraction may differ between kernels; on the emulator they agree bit for bit).
 */
class AddGeluParityTest {
    static Parity p;
    static final double TOL = 1e-5;

    @BeforeAll static void open() { p = new Parity(29); }

    @AfterAll static void close() { p.close(); }

    void fusedCase(int n, int c, int h, int w, boolean keepPre) {
        String tag = "addGelu " + n + "x" + c + "x" + h + "x" + w + (keepPre ? " keepPre" : "");
        // a + b ~ N(-0.5, 2.2²): both tails and the curved middle of GELU
        Tensor[] a = p.up(p.gauss(n * c * h * w, 2.0, -0.5), n, c, h, w), b = p.gaussT(n, c, h, w);
        Tensor[] oc = p.cuda.addGelu(a[0], b[0], keepPre), or = p.ref.addGelu(a[1], b[1], true);
        p.check(tag + " out", oc, or, 0, TOL);
        if (keepPre) p.check(tag + " pre", oc, or, 1, 1e-7);
        else assertNull(oc[1], tag + ": pre must be null unless kept");
    }

    @Test void onePartialBlockKeepPre() { fusedCase(1, 3, 7, 11, true); }        // 231 elements

    @Test void severalBlocksNoPre() { fusedCase(2, 5, 13, 17, false); }          // 2210: 9 blocks, the last partial

    @Test void level0ChannelsKeepPre() { fusedCase(2, 32, 9, 7, true); }

    @Test void shapeMismatchNamesOp() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> p.cuda.addGelu(p.cuda.zeros(1, 2, 3, 3), p.cuda.zeros(1, 2, 3, 4), true));
        assertTrue(e.getMessage().startsWith("addGelu"), e.getMessage());
    }

    /** The fused kernel equals add + gelu_forward to float rounding: the same float sum, the same cu_gelu. */
    @Test void fusedEqualsComposition() {
        String kind = System.getProperty("convunext.test.device", "emulated");
        try (CudaBackend fused = new CudaBackend(Devices.open(kind), true);
             CudaBackend comp = new CudaBackend(Devices.open(kind), false)) {
            int n = 2, c = 7, h = 9, w = 11;
            float[] ad = p.gauss(n * c * h * w, 2.0, -0.5), bd = p.gauss(n * c * h * w);
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
        double e = Parity.relErr(got, want);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }
}
