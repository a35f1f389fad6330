package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.autograd.F;
import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.cuda.ops.BatchNormOps;
import convunext.backend.cuda.ops.DwConv7Ops;
import convunext.backend.cuda.ops.Launcher;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The launch-saving kernels against the float64 oracle and for determinism: batchnorm.cu's
 * one-launch path (batchnorm_*_fused, a block per channel) and its two-launch path, each forced on
 * any shape, with and without the block's residual GELU (batchnormAddGelu: out = gelu(res + BN(x)),
 * its backward with gelu' in the first pass), on odd planes (scalar paths) and planes of a multiple
 * of 4 floats (float4 paths: for the two-launch part kernels also chunks of a length L % 4 != 0,
 * whose edges outside the whole groups are read as scalars, and chunks of more than 256 groups,
 * where a thread takes several); and dwconv7_backward_weight's "last block reduces" weight gradient
 * (one launch, per-channel tickets that each launch leaves at zero). Tolerance 1e-4 relative
 * (normwise), as BatchNormParityTest's on the CUDA kernels (normalised outputs, float32
 * per-element arithmetic); dwconv7 1e-5 as DwConv7ParityTest. Determinism: the same bits twice in
 * a row and under the emulator's shuffled schedules (blocks in random order on two OS threads,
 * so a different block draws the last ticket).
 */
class BatchNormFusedParityTest {
    static Parity p;
    static final double TOL = 1e-4;

    @BeforeAll static void open() {
        p = new Parity(73);
    }

    @AfterAll static void close() {
        BatchNormOps.setForceFused(null);
        p.close();
    }

    /**
     * Both paths on an odd shape (scalar) and float4 ones (P % 4 == 0, several planes). Two-launch
     * chunks (Launcher.chunks): 8x12 gives L = 48 (whole groups only), 10x20 L = 50 (chunks start
     * or end 2 elements off a group: the scalar edges of the float4 path).
     */
    @Test void bothPathsAgainstTheOracle() {
        for (Boolean fused : new Boolean[]{true, false}) {
            Boolean old = BatchNormOps.setForceFused(fused);
            try {
                bnCase(fused, 3, 5, 7, 9);
                bnCase(fused, 2, 3, 8, 12);
                bnCase(fused, 2, 3, 10, 20);
                bnCase(fused, 1, 2, 45, 37);   // a block's threads loop over several groups of the plane
            } finally {
                BatchNormOps.setForceFused(old);
            }
        }
    }

    /**
     * The two-launch part kernels with chunks of more than 256 float4 groups (a thread takes
     * several) and edges: 2x256 planes of 20x103 = 2060 floats, L = 1030 (chunk 0: groups [0, 1028)
     * and a tail of 2; chunk 1: a head of 2 and groups [1032, 2060)). Plain and with the residual GELU.
     */
    @Test void twoLaunchLongChunksAgainstTheOracle() {
        int n = 2, c = 256, h = 20, w = 103;
        int[] ch = Launcher.chunks(n, c, h * w);
        assertEquals(2, ch[0], "chunks per image");
        assertEquals(1030, ch[1], "chunk length");
        Boolean old = BatchNormOps.setForceFused(false);
        try {
            String tag = "two-launch long chunks";
            Tensor[] x = p.normalT(2, 0.7, n, c, h, w), res = p.gaussT(n, c, h, w);
            Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
            Tensor[] rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
            Tensor[] got = p.cuda.batchnormTrain(x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
            Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
            p.check(tag + " y", got, ref, 0, TOL);
            p.check(tag + " mean", got, ref, 1, TOL);
            p.check(tag + " invstd", got, ref, 2, TOL);
            p.check(tag + " running_var", rv[0], rv[1], TOL);
            Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
            Tensor[] gb = p.cuda.batchnormBackward(x[0], dy[0], g[0], got[1], got[2]);
            Tensor[] gr = p.ref.batchnormBackward(x[1], dy[1], g[1], ref[1], ref[2]);
            p.check(tag + " dx", gb, gr, 0, TOL);
            p.check(tag + " dgamma", gb, gr, 1, TOL);
            p.check(tag + " dbeta", gb, gr, 2, TOL);
            Tensor[] ag = p.cuda.batchnormAddGelu(x[0], res[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
            Tensor[] ar = p.ref.batchnormAddGelu(x[1], res[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
            p.check(tag + " +gelu out", ag, ar, 0, TOL);
            Tensor[] bc = p.cuda.batchnormAddGeluBackwardInto(x[0], dy[0], ag[3], g[0], ag[1], ag[2], null, null, null, null);
            Tensor[] br = p.ref.batchnormAddGeluBackwardInto(x[1], dy[1], ar[3], g[1], ar[1], ar[2], null, null, null, null);
            String[] names = {"dres", "dx", "dgamma", "dbeta"};
            for (int i = 0; i < 4; i++) p.check(tag + " +gelu " + names[i], bc, br, i, TOL);
        } finally {
            BatchNormOps.setForceFused(old);
        }
    }

    private void bnCase(boolean fused, int n, int c, int h, int w) {
        String tag = (fused ? "one-launch " : "two-launch ") + n + "x" + c + "x" + h + "x" + w;
        Tensor[] x = p.normalT(2, 0.7, n, c, h, w), res = p.gaussT(n, c, h, w);
        Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
        Tensor[] rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
        // plain training forward and backward (with gamma / beta gradients added into held ones)
        Tensor[] got = p.cuda.batchnormTrain(x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
        Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
        p.check(tag + " y", got, ref, 0, TOL);
        p.check(tag + " mean", got, ref, 1, TOL);
        p.check(tag + " invstd", got, ref, 2, TOL);
        p.check(tag + " running_mean", rm[0], rm[1], TOL);
        p.check(tag + " running_var", rv[0], rv[1], TOL);
        Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
        Tensor[] hg = p.gaussT(c), hb = p.gaussT(c), hx = p.gaussT(n, c, h, w);
        Tensor[] gb = p.cuda.batchnormBackwardInto(x[0], dy[0], g[0], got[1], got[2], hx[0], hg[0], hb[0]);
        Tensor[] gr = p.ref.batchnormBackwardInto(x[1], dy[1], g[1], ref[1], ref[2], hx[1], hg[1], hb[1]);
        p.check(tag + " dx into", gb, gr, 0, TOL);
        p.check(tag + " dgamma into", gb, gr, 1, TOL);
        p.check(tag + " dbeta into", gb, gr, 2, TOL);
        // with the residual GELU
        Tensor[] ag = p.cuda.batchnormAddGelu(x[0], res[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
        Tensor[] ar = p.ref.batchnormAddGelu(x[1], res[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
        p.check(tag + " +gelu out", ag, ar, 0, TOL);
        p.check(tag + " +gelu mean", ag, ar, 1, TOL);
        p.check(tag + " +gelu invstd", ag, ar, 2, TOL);
        p.check(tag + " +gelu pre", ag, ar, 3, TOL);
        p.check(tag + " +gelu running_var", rv[0], rv[1], TOL);
        Tensor scratchMean = p.gaussT(c)[0], scratchVar = p.uniformT(0.5, 2.0, c)[0];   // rm / rv stay in step with the oracle's
        Tensor[] noPre = p.cuda.batchnormAddGelu(x[0], res[0], g[0], beta[0], scratchMean, scratchVar, 0.1f, 1e-5f, false);
        assertEquals(null, noPre[3], tag + ": no pre unless asked");
        p.check(tag + " +gelu out without pre", noPre[0], ar[0], TOL);
        Tensor[] dout = p.normalT(1, 0.2, n, c, h, w);
        Tensor[] bc = p.cuda.batchnormAddGeluBackwardInto(x[0], dout[0], ag[3], g[0], ag[1], ag[2], null, null, null, null);
        Tensor[] br = p.ref.batchnormAddGeluBackwardInto(x[1], dout[1], ar[3], g[1], ar[1], ar[2], null, null, null, null);
        String[] names = {"dres", "dx", "dgamma", "dbeta"};
        for (int i = 0; i < 4; i++) p.check(tag + " +gelu " + names[i], bc, br, i, TOL);
        // everything added into held gradients (the residual's too)
        Tensor[] r0 = p.gaussT(n, c, h, w), x0 = p.gaussT(n, c, h, w), g0 = p.gaussT(c), b0 = p.gaussT(c);
        Tensor[] ic = p.cuda.batchnormAddGeluBackwardInto(x[0], dout[0], ag[3], g[0], ag[1], ag[2], r0[0], x0[0], g0[0], b0[0]);
        Tensor[] ir = p.ref.batchnormAddGeluBackwardInto(x[1], dout[1], ar[3], g[1], ar[1], ar[2], r0[1], x0[1], g0[1], b0[1]);
        for (int i = 0; i < 4; i++) p.check(tag + " +gelu " + names[i] + " into", ic, ir, i, TOL);
        // without the residual: gelu(BN(x)) (the stem)
        Tensor[] sg = p.cuda.batchnormAddGelu(x[0], null, g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
        Tensor[] sr = p.ref.batchnormAddGelu(x[1], null, g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
        p.check(tag + " gelu(bn) out", sg, sr, 0, TOL);
        p.check(tag + " gelu(bn) pre", sg, sr, 3, TOL);
        p.check(tag + " gelu(bn) running_mean", rm[0], rm[1], TOL);
        Tensor[] sc = p.cuda.batchnormAddGeluBackwardInto(x[0], dout[0], sg[3], g[0], sg[1], sg[2], null, null, null, null);
        Tensor[] sb = p.ref.batchnormAddGeluBackwardInto(x[1], dout[1], sr[3], g[1], sr[1], sr[2], null, null, null, null);
        for (int i = 0; i < 4; i++) p.check(tag + " gelu(bn) " + names[i], sc, sb, i, TOL);
    }

    /**
     * F.batchnormAddGelu on the tape (the block's norm2 + residual GELU as the model now runs it)
     * against the unfused chain F.addGelu(res, F.batchnormTrain(x)) on the same device (and without
 * res, the stem's gelu(BN(x)), against F.gelu(F.batchnormTrain(x))): output,
     * running statistics and the gradients of res, x, gamma and beta, with res used twice (also
     * feeding x, as a block's input feeds its dwconv) so that its gradient is accumulated. Both BN
     * paths; tolerance 1e-4 (the two differ only in the order of the sums and the rounding of GELU's
     * input).
     */
    @Test void tapeMatchesTheUnfusedChain() {
        int n = 2, c = 3, h = 9, w = 11;
        Tensor[] res = p.gaussT(n, c, h, w), x = p.normalT(1.5, 0.4, n, c, h, w), gy = p.gaussT(n, c, h, w);
        Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
        for (Boolean fusedPath : new Boolean[]{true, false}) {
            Boolean old = BatchNormOps.setForceFused(fusedPath);
            try {
                for (boolean noRes : new boolean[]{false, true}) {
                float[][] f = tape(true, noRes, res[0], x[0], g[0], beta[0], gy[0]);
                float[][] u = tape(false, noRes, res[0], x[0], g[0], beta[0], gy[0]);
                String[] names = {"out", "running_mean", "running_var", "dres", "dx", "dgamma", "dbeta"};
                for (int k = 0; k < f.length; k++) {
                    double num = 0, den = 0;
                    for (int i = 0; i < f[k].length; i++) { num += Math.pow(f[k][i] - u[k][i], 2); den += Math.pow(u[k][i], 2); }
                    double e = Math.sqrt(num / Math.max(den, 1e-30));
                    org.junit.jupiter.api.Assertions.assertTrue(den > 0 && e <= TOL,
                            names[k] + " (one-launch " + fusedPath + ", no res " + noRes + "): relative error " + e + " > " + TOL);
                }
                }
            } finally {
                BatchNormOps.setForceFused(old);
            }
        }
    }

    private float[][] tape(boolean fusedOp, boolean noRes, Tensor res0, Tensor x0, Tensor g0, Tensor b0, Tensor gy0) {
        int c = g0.dim(0);
        try (Tape t = new Tape(p.cuda, true)) {
            Var res = Var.parameter("res", copy(res0), p.cuda.zeros(res0.shape()));
            Var xin = Var.parameter("x", copy(x0), p.cuda.zeros(x0.shape()));
            Var gamma = Var.parameter("gamma", copy(g0), p.cuda.zeros(c)), beta = Var.parameter("beta", copy(b0), p.cuda.zeros(c));
            Tensor rm = p.cuda.zeros(c), rv = p.cuda.zeros(c);
            Var x = F.add(t, xin, res);   // res used twice
            Var y = fusedOp ? F.batchnormAddGelu(t, noRes ? null : res, x, gamma, beta, rm, rv, 0.1f, 1e-5f)
                    : noRes ? F.gelu(t, F.batchnormTrain(t, x, gamma, beta, rm, rv, 0.1f, 1e-5f))
                    : F.addGelu(t, res, F.batchnormTrain(t, x, gamma, beta, rm, rv, 0.1f, 1e-5f));
            float[] out = p.cuda.download(y.value);
            t.backward(y, copy(gy0));
            return new float[][]{out, p.cuda.download(rm), p.cuda.download(rv), p.cuda.download(res.grad()),
                    p.cuda.download(xin.grad()), p.cuda.download(gamma.grad()), p.cuda.download(beta.grad())};
        }
    }

    private static Tensor copy(Tensor t) {
        Tensor c = p.cuda.empty(t.shape());
        p.cuda.copy(t, c);
        return c;
    }

    /** The bits of every output of a BN forward + backward with the residual GELU, and of a dwconv7 backward. */
    private float[][] run(Tensor x, Tensor res, Tensor g, Tensor beta, Tensor dout, Tensor dwx, Tensor dww, Tensor dwdy) {
        Tensor rm = p.cuda.zeros(g.dim(0)), rv = p.cuda.zeros(g.dim(0));
        Tensor[] f = p.cuda.batchnormAddGelu(x, res, g, beta, rm, rv, 0.1f, 1e-5f, true);
        Tensor[] b = p.cuda.batchnormAddGeluBackwardInto(x, dout, f[3], g, f[1], f[2], null, null, null, null);
        Tensor[] d = p.cuda.dwconv7Backward(dwx, dww, dwdy);
        return new float[][]{p.cuda.download(f[0]), p.cuda.download(f[1]), p.cuda.download(f[2]), p.cuda.download(rv),
                p.cuda.download(b[0]), p.cuda.download(b[1]), p.cuda.download(b[2]), p.cuda.download(b[3]),
                p.cuda.download(d[1]), p.cuda.download(d[2])};
    }

    /**
     * Same bits twice and under two shuffled schedules, on both BN paths; dwconv7 with several blocks
     * per channel. BN planes of 45x70 (P % 4 == 2: scalar paths) and 44x70 (float4; two-launch chunks
     * of L = 63, so with scalar edges).
     */
    @Test void deterministic() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        int n = 2, c = 3;
        Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c);
        Tensor[] dwx = p.gaussT(n, c, 130, 67), dww = p.gaussT(c, 1, 7, 7), dwdy = p.gaussT(n, c, 130, 67);
        int oldBlocks = DwConv7Ops.setWeightGradBlocks(8 * n * c);   // 9 tiles per plane: 5 blocks of 2 tiles, S = 10 per channel
        try {
            for (int h : new int[]{45, 44}) {
                int w = 70;
                Tensor[] x = p.normalT(2, 0.7, n, c, h, w), res = p.gaussT(n, c, h, w), dout = p.gaussT(n, c, h, w);
                for (Boolean fused : new Boolean[]{true, false}) {
                    Boolean old = BatchNormOps.setForceFused(fused);
                    String tag = " (" + h + "x" + w + ", fused " + fused + ")";
                    try {
                        float[][] a = run(x[0], res[0], g[0], beta[0], dout[0], dwx[0], dww[0], dwdy[0]);
                        float[][] b = run(x[0], res[0], g[0], beta[0], dout[0], dwx[0], dww[0], dwdy[0]);
                        same("again" + tag, a, b);
                        for (long seed : new long[]{0x5eed1L, 0xbadc0deL})
                            try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                                same("shuffled " + Long.toHexString(seed) + tag, a,
                                        run(x[0], res[0], g[0], beta[0], dout[0], dwx[0], dww[0], dwdy[0]));
                            }
                    } finally {
                        BatchNormOps.setForceFused(old);
                    }
                }
            }
        } finally {
            DwConv7Ops.setWeightGradBlocks(oldBlocks);
        }
        // the several-blocks-per-channel weight gradient is still right after the launches above reused the tickets
        Tensor[] gc = p.cuda.dwconv7Backward(dwx[0], dww[0], dwdy[0]);
        Tensor[] gr = p.ref.dwconv7Backward(dwx[1], dww[1], dwdy[1]);
        p.check("dwconv7 dw after reuse", gc, gr, 1, 1e-5);
        p.check("dwconv7 db after reuse", gc, gr, 2, 1e-5);
    }

    private static void same(String what, float[][] a, float[][] b) {
        for (int i = 0; i < a.length; i++) {
            int[] ia = new int[a[i].length], ib = new int[b[i].length];
            for (int j = 0; j < ia.length; j++) { ia[j] = Float.floatToRawIntBits(a[i][j]); ib[j] = Float.floatToRawIntBits(b[i][j]); }
            assertArrayEquals(ia, ib, what + ": output " + i + " differs in its bits");
        }
    }
}
