package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backend.dwconv7Batchnorm (the block's dwconv7 + training BatchNorm; on CUDA the BN statistics
 * come from dwconv7_forward's epilogue and the BN is its apply alone) on every backend against the
 * float64 oracle's composition: z = dwconv7(x) at DwConv7ParityTest's 1e-5, the BN output, mean,
 * invstd and running statistics at the BatchNorm tests' 1e-4 (BatchNormFusedParityTest), and its
 * backward (Backend.dwconv7BatchnormBackwardInto) at 1e-4, the conv bias gradient (0 in exact
 * arithmetic) within its summation bound. Odd
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
            // The backward (dwconv7BatchnormBackwardInto: BN's backward, then the convolution's of
            // its dz), fresh and into held gradients, each side from its own forward's z and
            // statistics. dz carries BN's tolerance into dwconv7's linear backward, so every
            // gradient is checked at BN_TOL.
            Tensor[] gy = p.normalT(1, 0.2, n, c, h, w);
            String[] names = {"dx", "dw", "db", "dgamma", "dbeta"};
            for (boolean hold : new boolean[] {false, true}) {
                Tensor[] hx = hold ? p.normalT(0.5, 0, n, c, h, w) : new Tensor[2], hw = hold ? p.gaussT(c, 1, 7, 7) : new Tensor[2];
                Tensor[] hb = hold ? p.gaussT(c) : new Tensor[2], hg = hold ? p.gaussT(c) : new Tensor[2], he = hold ? p.gaussT(c) : new Tensor[2];
                Tensor[] bg = p.be.dwconv7BatchnormBackwardInto(x[0], wt[0], got[0], gy[0], g[0], got[2], got[3], hx[0], hw[0], hb[0], hg[0], he[0]);
                Tensor[] br = p.ref.dwconv7BatchnormBackwardInto(x[1], wt[1], ref[0], gy[1], g[1], ref[2], ref[3], hx[1], hw[1], hb[1], hg[1], he[1]);
                for (int i = 0; i < 5; i++) {
                    if (i == 2 && !hold) continue;   // fresh db: below
                    p.check(tag + " backward" + (hold ? " into held " : " ") + names[i], bg, br, i, BN_TOL);
                }
                if (hold) continue;
                // The conv bias gradient db = Σ dz is 0 in exact arithmetic (BN's dz has zero mean
                // per channel), so a relative check has nothing to compare with: what comes back is
                // the roundoff of summing dz, bounded by the recursive-summation bound count·u·Σ|dz|.
                float[] dz = p.ref.download(p.ref.batchnormBackward(ref[0], gy[1], g[1], ref[2], ref[3])[0]), db = p.be.download(bg[2]);
                int count = n * h * w;
                for (int ch = 0; ch < c; ch++) {
                    double sumAbs = 0;
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < h * w; j++) sumAbs += Math.abs(dz[(i * c + ch) * h * w + j]);
                    double bound = count * 0x1p-24 * sumAbs;
                    assertTrue(Math.abs(db[ch]) <= bound, tag + " backward db[" + ch + "] = " + db[ch] + " is not roundoff (bound " + bound + ") [" + backend + "]");
                }
            }
        }
    }
}
