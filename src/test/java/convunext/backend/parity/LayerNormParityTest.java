package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The channels-first layernorm, forward (with its saved mean and invstd) and backward, on every
 * backend against the float64 oracle; inputs with a non-zero mean, C from 5 to 67. Tolerance 1e-5
 * normwise on the CPU (statistics and reductions in double), 1e-4 on the CUDA kernels.
 */
class LayerNormParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void odd(String b) throws Exception { ln(b, 18, 2, 5, 13, 17, 1, 3); }

    @OnEveryBackend void wideMeanThree(String b) throws Exception { ln(b, 50, 1, 37, 23, 29, 1, 3); }

    @OnEveryBackend void oddNegativeMean(String b) throws Exception { ln(b, 41, 2, 5, 13, 17, 1.5, -0.4); }

    @OnEveryBackend void wideC(String b) throws Exception { ln(b, 42, 1, 67, 5, 9, 1.5, -0.4); }

    private static void ln(String backend, long seed, int n, int c, int h, int w, double xScale, double xMean) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            double tol = p.tol(1e-5, 1e-4);
            String tag = "layernorm " + n + "x" + c + "x" + h + "x" + w;
            Tensor[] x = p.normalT(xScale, xMean, n, c, h, w), g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
            Tensor[] got = p.be.layernorm(x[0], g[0], beta[0], 1e-6f), ref = p.ref.layernorm(x[1], g[1], beta[1], 1e-6f);
            p.check(tag + " y", got, ref, 0, tol);
            p.check(tag + " mean", got, ref, 1, tol);
            p.check(tag + " invstd", got, ref, 2, tol);
            Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
            Tensor[] gb = p.be.layernormBackward(x[0], dy[0], g[0], got[1], got[2]);
            Tensor[] gr = p.ref.layernormBackward(x[1], dy[1], g[1], ref[1], ref[2]);
            p.check(tag + " dx", gb, gr, 0, tol);
            p.check(tag + " dgamma", gb, gr, 1, tol);
            p.check(tag + " dbeta", gb, gr, 2, tol);
        }
    }
}
