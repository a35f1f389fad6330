package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.autograd.F;
import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.backend.cuda.ops.BatchNormOps;
import convunext.backend.parity.BackendParity;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The next BatchNorm's statistics from batchnorm_forward_apply's epilogue (batchnormAddGeluStats:
 * out = gelu(res + BN1(x)) and the double sums of out per apply block; batchnormTrainStats: BN2(out)
 * with those sums as its partials, no stats_part launch; on the one-launch path the sums of
 * batchnorm_forward_fused's pass 2, one pair per channel, and BN2 is the apply alone). Each path
 * forced in turn: against the float64 oracle's
 * batchnormTrain(batchnormAddGelu(x)) on odd planes (scalar paths), planes of a multiple of 4
 * (float4) and planes over BN_EPB (several apply blocks per plane), with and without res, at 1e-4
 * (BatchNormFusedParityTest's tolerance); against the unfused ops on this device (out and pre the
 * same bits: the epilogue only reads them; BN2's outputs within 1e-6, a different summation order
 * of the same doubles); the same bits twice and under two shuffled emulator schedules; and on the
 * tape F.batchnormAddGelu(statsOut) → F.batchnormTrain against the chain without statistics:
 * outputs, running statistics and every gradient at 1e-4 (the backward is the unchanged ops').
 */
class BatchNormStatsHandoffTest {
    static final double TOL = 1e-4;
    static Parity p;

    @BeforeAll static void open() { p = new Parity(97); }

    @AfterAll static void close() {
        BatchNormOps.setForceFused(null);
        p.close();
    }

    @Test void againstTheOracle() {
        for (boolean fused : new boolean[]{false, true}) {
            Boolean old = BatchNormOps.setForceFused(fused);
            try {
                for (int[] s : new int[][]{{3, 5, 7, 9}, {2, 3, 8, 12}, {1, 2, 45, 37}, {2, 3, 70, 65}, {2, 2, 33, 132}})
                    for (boolean withRes : new boolean[]{true, false}) oracleCase(fused, s, withRes);
            } finally {
                BatchNormOps.setForceFused(old);
            }
        }
    }

    private void oracleCase(boolean fused, int[] s, boolean withRes) {
        int n = s[0], c = s[1], h = s[2], w = s[3];
        String tag = (fused ? "one-launch " : "two-launch ") + "handoff " + java.util.Arrays.toString(s) + (withRes ? " res" : "");
        Tensor[] x = p.normalT(2, 0.7, n, c, h, w), res = withRes ? p.gaussT(n, c, h, w) : new Tensor[2];
        Tensor[] g1 = p.normalT(0.5, 1.0, c), b1 = p.gaussT(c), rm1 = p.gaussT(c), rv1 = p.uniformT(0.5, 2.0, c);
        Tensor[] g2 = p.normalT(0.5, 1.0, c), b2 = p.gaussT(c), rm2 = p.gaussT(c), rv2 = p.uniformT(0.5, 2.0, c);
        Tensor[] a = p.cuda.batchnormAddGeluStats(x[0], res[0], g1[0], b1[0], rm1[0], rv1[0], 0.1f, 1e-5f, true);
        assertNotNull(a[4], tag + ": the output's statistics");
        assertEquals(fused ? 1 : n * ((h * w + Kernels.BN_EPB - 1) / Kernels.BN_EPB), a[4].dim(1), tag + ": pairs per channel");
        Tensor[] got = p.cuda.batchnormTrainStats(a[0], a[4], g2[0], b2[0], rm2[0], rv2[0], 0.1f, 1e-5f);
        Tensor[] ar = p.ref.batchnormAddGelu(x[1], res[1], g1[1], b1[1], rm1[1], rv1[1], 0.1f, 1e-5f, true);
        Tensor[] ref = p.ref.batchnormTrain(ar[0], g2[1], b2[1], rm2[1], rv2[1], 0.1f, 1e-5f);
        p.check(tag + " out", a, ar, 0, TOL);
        p.check(tag + " pre", a, ar, 3, TOL);
        p.check(tag + " y", got, ref, 0, TOL);
        p.check(tag + " mean", got, ref, 1, TOL);
        p.check(tag + " invstd", got, ref, 2, TOL);
        p.check(tag + " running_mean", rm2[0], rm2[1], TOL);
        p.check(tag + " running_var", rv2[0], rv2[1], TOL);
    }

    @Test void againstTheUnfusedOps() {
        for (boolean fused : new boolean[]{false, true}) unfusedCase(fused);
    }

    private void unfusedCase(boolean fused) {
        Boolean old = BatchNormOps.setForceFused(fused);
        try {
            int n = 2, c = 3, h = 70, w = 45;
            Tensor x = p.normalT(2, 0.7, n, c, h, w)[0], res = p.gaussT(n, c, h, w)[0];
            Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0], g2 = p.normalT(0.5, 1.0, c)[0], b2 = p.gaussT(c)[0];
            Tensor[] a = p.cuda.batchnormAddGeluStats(x, res, g, beta, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f, true);
            Tensor[] f = p.cuda.batchnormTrainStats(a[0], a[4], g2, b2, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f);
            Tensor[] ua = p.cuda.batchnormAddGelu(x, res, g, beta, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f, true);
            Tensor[] u = p.cuda.batchnormTrain(ua[0], g2, b2, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f);
            for (int i : new int[]{0, 1, 2, 3})
                assertArrayEquals(bits(p.cuda.download(ua[i])), bits(p.cuda.download(a[i])), (fused ? "one-launch" : "two-launch") + " batchnormAddGelu output " + i);
            for (int i = 0; i < 3; i++) {
                double e = BackendParity.relErr(p.cuda.download(f[i]), p.cuda.download(u[i]));
                assertTrue(e <= 1e-6, (fused ? "one-launch" : "two-launch") + " against the unfused ops, output " + i + ": relative error " + e);
            }
        } finally {
            BatchNormOps.setForceFused(old);
        }
    }

    @Test void deterministic() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        for (boolean fused : new boolean[]{false, true}) deterministicCase(fused);
    }

    private void deterministicCase(boolean fused) throws Exception {
        Boolean old = BatchNormOps.setForceFused(fused);
        try {
            int n = 2, c = 2, h = 70, w = 125;   // 8750 floats per plane: 3 apply blocks, S' = 6 pairs per channel
            Tensor x = p.normalT(2, 0.7, n, c, h, w)[0], res = p.gaussT(n, c, h, w)[0];
            Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0];
            float[][] a = fwd(x, res, g, beta);
            same("again", a, fwd(x, res, g, beta));
            for (long seed : new long[]{0x5eed2L, 0xfeedL})
                try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                    same((fused ? "one-launch" : "two-launch") + " shuffled " + Long.toHexString(seed), a, fwd(x, res, g, beta));
                }
        } finally {
            BatchNormOps.setForceFused(old);
        }
    }

    @Test void tapeMatchesTheChainWithoutStatistics() {
        for (boolean fused : new boolean[]{false, true}) tapeCase(fused);
    }

    private void tapeCase(boolean fused) {
        Boolean old = BatchNormOps.setForceFused(fused);
        try {
            int n = 2, c = 3, h = 13, w = 17;
            Tensor x = p.normalT(2, 0.7, n, c, h, w)[0], res = p.gaussT(n, c, h, w)[0];
            Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0], gy = p.gaussT(n, c, h, w)[0];
            float[][] f = tape(true, x, res, g, beta, gy), u = tape(false, x, res, g, beta, gy);
            String[] names = {"out", "running_mean", "running_var", "dx", "dres", "dgamma1", "dbeta1", "dgamma2", "dbeta2"};
            for (int k = 0; k < f.length; k++) {
                double num = 0, den = 0;
                for (int i = 0; i < f[k].length; i++) { num += Math.pow(f[k][i] - u[k][i], 2); den += Math.pow(u[k][i], 2); }
                double e = Math.sqrt(num / Math.max(den, 1e-30));
                assertTrue(den > 0 && e <= TOL, (fused ? "one-launch " : "two-launch ") + names[k] + ": relative error " + e + " > " + TOL);
            }
        } finally {
            BatchNormOps.setForceFused(old);
        }
    }

    private float[][] tape(boolean stats, Tensor x0, Tensor r0, Tensor g0, Tensor beta0, Tensor gy0) {
        int c = g0.dim(0);
        try (Tape t = new Tape(p.cuda, true)) {
            Var xin = Var.parameter("x", copy(x0), p.cuda.zeros(x0.shape()));
            Var res = Var.parameter("res", copy(r0), p.cuda.zeros(r0.shape()));
            Var g1 = Var.parameter("g1", copy(g0), p.cuda.zeros(c)), b1 = Var.parameter("b1", copy(beta0), p.cuda.zeros(c));
            Var g2 = Var.parameter("g2", copy(g0), p.cuda.zeros(c)), b2 = Var.parameter("b2", copy(beta0), p.cuda.zeros(c));
            Tensor rm1 = p.cuda.zeros(c), rv1 = p.cuda.zeros(c), rm = p.cuda.zeros(c), rv = p.cuda.zeros(c);
            Var x = F.add(t, xin, xin);   // x used twice: its gradient is accumulated
            Var o = F.batchnormAddGelu(t, res, x, g1, b1, rm1, rv1, 0.1f, 1e-5f, stats);
            Var y = F.batchnormTrain(t, o, g2, b2, rm, rv, 0.1f, 1e-5f);
            float[] out = p.cuda.download(y.value);
            t.backward(y, copy(gy0));
            return new float[][]{out, p.cuda.download(rm), p.cuda.download(rv), p.cuda.download(xin.grad()),
                    p.cuda.download(res.grad()), p.cuda.download(g1.grad()), p.cuda.download(b1.grad()),
                    p.cuda.download(g2.grad()), p.cuda.download(b2.grad())};
        }
    }

    private float[][] fwd(Tensor x, Tensor res, Tensor g, Tensor beta) {
        int c = g.dim(0);
        Tensor rm = p.cuda.zeros(c), rv = p.cuda.zeros(c);
        Tensor[] a = p.cuda.batchnormAddGeluStats(x, res, g, beta, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f, true);
        Tensor[] f = p.cuda.batchnormTrainStats(a[0], a[4], g, beta, rm, rv, 0.1f, 1e-5f);
        return new float[][]{p.cuda.download(a[0]), p.cuda.download(a[4]), p.cuda.download(f[0]), p.cuda.download(f[1]),
                p.cuda.download(f[2]), p.cuda.download(rm), p.cuda.download(rv)};
    }

    private static Tensor copy(Tensor t) {
        Tensor c = p.cuda.empty(t.shape());
        p.cuda.copy(t, c);
        return c;
    }

    private static void same(String what, float[][] a, float[][] b) {
        for (int i = 0; i < a.length; i++) assertArrayEquals(bits(a[i]), bits(b[i]), what + ": output " + i + " differs in its bits");
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
        return b;
    }
}
