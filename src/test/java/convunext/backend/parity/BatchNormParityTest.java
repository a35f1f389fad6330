package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * batchnorm on every backend against the float64 oracle: training statistics and the in-place
 * running-stat update, eval mode on the updated running stats, the backward, and the training
 * BatchNorm fused with the block's residual GELU (batchnormAddGelu). Inputs carry a
 * non-zero mean (up to 3: a one-pass float variance would fail). Tolerance 1e-5 normwise on the
 * CPU (every statistic and reduction in double), 1e-4 on the CUDA kernels (normalised outputs;
 * float32 per-element arithmetic).
 */
class BatchNormParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void odd(String b) throws Exception { bn(b, 11, 2, 5, 13, 17, 1, 3); }

    @OnEveryBackend void oddSpread(String b) throws Exception { bn(b, 41, 2, 5, 13, 17, 2, 0.7); }

    @OnEveryBackend void manyChunks(String b) throws Exception { bn(b, 42, 3, 2, 31, 29, 2, 0.7); }

    /** Planes over 4096 floats: the CPU's vector sums run in chunks of 4096 (VectorOps.bnSums). */
    @OnEveryBackend void longPlanes(String b) throws Exception { bn(b, 43, 2, 3, 67, 71, 1.5, -2); }

    @OnEveryBackend void small(String b) throws Exception { bn(b, 12, 2, 5, 7, 9, 1, 1); }

    private static void bn(String backend, long seed, int n, int c, int h, int w, double xScale, double xMean) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            double tol = p.tol(1e-5, 1e-4);
            String tag = "batchnorm " + n + "x" + c + "x" + h + "x" + w;
            Tensor[] x = p.normalT(xScale, xMean, n, c, h, w);
            Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
            Tensor[] rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
            Tensor[] got = p.be.batchnormTrain(x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
            Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
            p.check(tag + " y", got, ref, 0, tol);
            p.check(tag + " mean", got, ref, 1, tol);
            p.check(tag + " invstd", got, ref, 2, tol);
            p.check(tag + " running_mean", rm[0], rm[1], tol);
            p.check(tag + " running_var", rv[0], rv[1], tol);
            p.check(tag + " eval", p.be.batchnormEval(x[0], g[0], beta[0], rm[0], rv[0], 1e-5f),
                    p.ref.batchnormEval(x[1], g[1], beta[1], rm[1], rv[1], 1e-5f), tol);
            Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
            Tensor[] gb = p.be.batchnormBackward(x[0], dy[0], g[0], got[1], got[2]);
            Tensor[] gr = p.ref.batchnormBackward(x[1], dy[1], g[1], ref[1], ref[2]);
            p.check(tag + " dx", gb, gr, 0, tol);
            p.check(tag + " dgamma", gb, gr, 1, tol);
            p.check(tag + " dbeta", gb, gr, 2, tol);
            // the same backward added into held gradients (dx, dγ, dβ)
            Tensor[] hx0 = p.normalT(0.5, 0, n, c, h, w), hg0 = p.gaussT(c), hb0 = p.gaussT(c);
            Tensor[] ib = p.be.batchnormBackwardInto(x[0], dy[0], g[0], got[1], got[2], hx0[0], hg0[0], hb0[0]);
            Tensor[] ir = p.ref.batchnormBackwardInto(x[1], dy[1], g[1], ref[1], ref[2], hx0[1], hg0[1], hb0[1]);
            p.check(tag + " into held dx", ib, ir, 0, tol);
            p.check(tag + " into held dgamma", ib, ir, 1, tol);
            p.check(tag + " into held dbeta", ib, ir, 2, tol);
            // BatchNorm, the residual and GELU in one op (res null: the stem's gelu(BN(x))). GELU's
            // slope is at most 1.13 and its own roundoff ≈ 1e-7, so y's tolerance becomes 1.2·tol.
            Tensor[] res = p.normalT(1, 0.3, n, c, h, w);
            for (boolean withRes : new boolean[] {true, false}) {
                String t = tag + (withRes ? " gelu(res + BN(x))" : " gelu(BN(x))");
                Tensor[] fg = p.be.batchnormAddGelu(x[0], withRes ? res[0] : null, g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
                Tensor[] fr = p.ref.batchnormAddGelu(x[1], withRes ? res[1] : null, g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
                p.check(t + " out", fg, fr, 0, 1.2 * tol);
                p.check(t + " mean", fg, fr, 1, tol);
                p.check(t + " invstd", fg, fr, 2, tol);
                // saved: the oracle's pre in the form the backend keeps it (batchnormAddGeluSaved)
                Tensor[] preR = p.up(p.ref.download(fr[3]), n, c, h, w);
                p.check(t + " saved", fg[3], p.ref.upload(p.be.download(p.be.batchnormAddGeluSaved(preR[0])), n, c, h, w), tol);
                p.check(t + " running_mean", rm[0], rm[1], tol);
                p.check(t + " running_var", rv[0], rv[1], tol);
            }
            // Its backward (d = gelu'(pre)·dout, the residual's gradient, then BN's backward of d),
            // fresh and added into held gradients; the same pre on both sides, each in its backend's
            // saved form. GELU' is at most 1.13 with roundoff ≈ 1e-7, so d's and dx's tolerances
            // become 1.2·tol as the forward's out.
            Tensor[] pre = p.normalT(1, 0.2, n, c, h, w), dout = p.normalT(1, -0.1, n, c, h, w);
            pre = new Tensor[] {p.be.batchnormAddGeluSaved(pre[0]), p.ref.batchnormAddGeluSaved(pre[1])};
            String[] names = {"dres", "dx", "dgamma", "dbeta"};
            for (boolean hold : new boolean[] {false, true}) {
                Tensor[] hr = hold ? p.normalT(0.5, 0, n, c, h, w) : new Tensor[2], hx = hold ? p.normalT(0.5, 0, n, c, h, w) : new Tensor[2];
                Tensor[] hg = hold ? p.gaussT(c) : new Tensor[2], hb = hold ? p.gaussT(c) : new Tensor[2];
                Tensor[] bg = p.be.batchnormAddGeluBackwardInto(x[0], dout[0], pre[0], g[0], got[1], got[2], hr[0], hx[0], hg[0], hb[0]);
                Tensor[] br = p.ref.batchnormAddGeluBackwardInto(x[1], dout[1], pre[1], g[1], ref[1], ref[2], hr[1], hx[1], hg[1], hb[1]);
                for (int i = 0; i < 4; i++)
                    p.check(tag + " gelu(res + BN(x)) backward" + (hold ? " into held " : " ") + names[i], bg, br, i, 1.2 * tol);
            }
        }
    }
}
