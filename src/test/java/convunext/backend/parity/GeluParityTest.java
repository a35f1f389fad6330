package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.RefGelu;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exact GELU and its derivative on every backend against the float64 oracle. On the CPU each
 * element is checked: forward within 1e-6 of |gelu(x)| (the far negative tail included: the erfc
 * fit keeps Φ(x) accurate there), backward within 1e-6·|dy|. The CUDA kernels (one float32 erf,
 * exp each) are checked normwise to 1e-5.
 */
class GeluParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    /** x over [−12, 8): both tails and the curved middle. */
    @OnEveryBackend void tails(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 21)) {
            Tensor[] x = p.uniformT(-12, 8, 2, 5, 13, 17), dy = p.gaussT(2, 5, 13, 17);
            Tensor[] y = {p.be.gelu(x[0]), p.ref.gelu(x[1])}, dx = {p.be.geluBackward(x[0], dy[0]), p.ref.geluBackward(x[1], dy[1])};
            if (!p.onCpu()) {
                p.check("gelu y", y[0], y[1], 1e-5);
                p.check("gelu dx", dx[0], dx[1], 1e-5);
                return;
            }
            float[] xs = p.ref.download(x[1]), gs = p.ref.download(dy[1]);
            float[] gy = p.be.download(y[0]), gdx = p.be.download(dx[0]);
            p.check("gelu y", y[0], y[1], 1e-5);   // finite, reference not all zeros; the bound is per element below
            for (int i = 0; i < xs.length; i++) {   // against the float64 values, unrounded
                double ry = RefGelu.gelu(xs[i]), rdx = gs[i] * RefGelu.geluGrad(xs[i]);
                assertTrue(Math.abs(gy[i] - ry) <= 1e-6 * Math.abs(ry) + Double.MIN_NORMAL,
                        "gelu(" + xs[i] + "): " + gy[i] + " vs " + ry);
                assertTrue(Math.abs(gdx[i] - rdx) <= 1e-6 * Math.abs(gs[i]) + Double.MIN_NORMAL,
                        "gelu' at " + xs[i] + ": " + gdx[i] + " vs " + rdx);
            }
        }
    }

    /** x ~ N(0, 3²). */
    @OnEveryBackend void spread(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 51)) {
            Tensor[] x = p.normalT(3, 0, 2, 5, 13, 17), dy = p.gaussT(2, 5, 13, 17);
            p.check("gelu y", p.be.gelu(x[0]), p.ref.gelu(x[1]), 1e-5);
            p.check("gelu dx", p.be.geluBackward(x[0], dy[0]), p.ref.geluBackward(x[1], dy[1]), 1e-5);
        }
    }
}
