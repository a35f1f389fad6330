package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backend.dwconv7Batchnorm (the block's dwconv7 + training BatchNorm; on CUDA the BN statistics
 * come from dwconv7_forward's epilogue and the BN is its apply alone) on every backend against the
 * float64 oracle's composition: z = dwconv7(x) at DwConv7ParityTest's 1e-5, the BN output, mean,
 * invstd and running statistics at the BatchNorm tests' 1e-4 (BatchNormFusedParityTest). Odd
 * shapes, several tiles per plane in x and y, and 42 dwconv blocks per channel (more than the 32
 * lanes of the final sum: each lane adds several pairs). Inputs at BackendParity.OFFSET (the
 * scalar staging path; DwConv7BatchnormTest takes the 128-bit one).
 */
class DwConv7BatchnormParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();
    static final double DW_TOL = 1e-5, BN_TOL = 1e-4;

    @OnEveryBackend void oddSizes(String b) throws Exception { run(b, 11, 2, 3, 13, 17); }

    @OnEveryBackend void smallestPlane(String b) throws Exception { run(b, 12, 3, 2, 4, 5); }

    @OnEveryBackend void severalTiles(String b) throws Exception { run(b, 13, 2, 2, 70, 45); }

    @OnEveryBackend void manyBlocksPerChannel(String b) throws Exception { run(b, 14, 2, 1, 130, 199); }

    private static void run(String backend, long seed, int n, int c, int h, int w) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            String tag = "dwconv7Batchnorm " + n + "x" + c + "x" + h + "x" + w;
            Tensor[] x = p.normalT(1.5, 0.3, n, c, h, w), wt = p.gaussT(c, 1, 7, 7), bias = p.gaussT(c);
            Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c), rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
            Tensor[] got = p.be.dwconv7Batchnorm(x[0], wt[0], bias[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
            Tensor[] ref = p.ref.dwconv7Batchnorm(x[1], wt[1], bias[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
            p.check(tag + " z", got, ref, 0, DW_TOL);
            p.check(tag + " y", got, ref, 1, BN_TOL);
            p.check(tag + " mean", got, ref, 2, BN_TOL);
            p.check(tag + " invstd", got, ref, 3, BN_TOL);
            p.check(tag + " running_mean", rm[0], rm[1], BN_TOL);
            p.check(tag + " running_var", rv[0], rv[1], BN_TOL);
        }
    }
}
