package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.autograd.F;
import convunext.autograd.Tape;
import convunext.autograd.Var;
import convunext.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CUDA dwconv7Batchnorm (BN statistics from dwconv7_forward's epilogue, then batchnorm_forward_apply
 * with one partial per channel): on aligned uploads with W % 4 == 0 (dwconv7's 128-bit staging)
 * against the float64 oracle; against the unfused dwconv7 + batchnormTrain on the same device (z
 * the same bits: the convolution's arithmetic is unchanged; the BN output only within the
 * roundoff of a different summation order, 1e-6); the same bits twice and under two shuffled
 * schedules (which block of a channel is last varies, the sum's order does not); and on the tape,
 * F.dwconv7Batchnorm against F.batchnormTrain(F.dwconv7(x)): output, running statistics and the
 * gradients of x, w, b, gamma, beta at 1e-4 (BatchNormFusedParityTest's tolerance; the backward is
 * the two ops' own, each finite-difference checked in Ref*Test).
 */
class DwConv7BatchnormTest {
    static final double DW_TOL = 1e-5, BN_TOL = 1e-4;
    static Parity p;

    @BeforeAll static void open() { p = new Parity(83); }

    @AfterAll static void close() { p.close(); }

    @Test void alignedAgainstTheOracle() {
        for (int[] s : new int[][]{{2, 3, 21, 44}, {1, 2, 67, 68}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            String tag = "dwconv7Batchnorm " + java.util.Arrays.toString(s);
            Tensor[] x = p.normalT(1.5, 0.3, n, c, h, w), wt = p.gaussT(c, 1, 7, 7), bias = p.gaussT(c);
            Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c), rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
            Tensor[] got = p.cuda.dwconv7Batchnorm(x[0], wt[0], bias[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
            Tensor[] ref = p.ref.dwconv7Batchnorm(x[1], wt[1], bias[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
            p.check(tag + " z", got, ref, 0, DW_TOL);
            p.check(tag + " y", got, ref, 1, BN_TOL);
            p.check(tag + " mean", got, ref, 2, BN_TOL);
            p.check(tag + " invstd", got, ref, 3, BN_TOL);
            p.check(tag + " running_mean", rm[0], rm[1], BN_TOL);
            p.check(tag + " running_var", rv[0], rv[1], BN_TOL);
        }
    }

    @Test void againstTheUnfusedOps() {
        int n = 2, c = 3, h = 70, w = 45;
        Tensor x = p.normalT(1.5, 0.3, n, c, h, w)[0], wt = p.gaussT(c, 1, 7, 7)[0], bias = p.gaussT(c)[0];
        Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0];
        Tensor[] f = p.cuda.dwconv7Batchnorm(x, wt, bias, g, beta, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f);
        Tensor z = p.cuda.dwconv7(x, wt, bias);
        Tensor[] u = p.cuda.batchnormTrain(z, g, beta, p.cuda.zeros(c), p.cuda.zeros(c), 0.1f, 1e-5f);
        assertArrayEquals(bits(p.cuda.download(z)), bits(p.cuda.download(f[0])), "z: dwconv7's bits");
        for (int i = 0; i < 3; i++) {
            double e = convunext.backend.parity.BackendParity.relErr(p.cuda.download(f[i + 1]), p.cuda.download(u[i]));
            assertTrue(e <= 1e-6, "against the unfused ops, output " + (i + 1) + ": relative error " + e);
        }
    }

    @Test void deterministic() throws Exception {
        Parity.requireEmulator();
        org.junit.jupiter.api.Assumptions.assumeTrue(Parity.onEmulator(), "shuffled schedules are the emulator's");
        int n = 2, c = 2, h = 130, w = 200;   // 21 tiles per plane: S = 42 pairs per channel
        Tensor x = p.normalT(1.5, 0.3, n, c, h, w)[0], wt = p.gaussT(c, 1, 7, 7)[0], bias = p.gaussT(c)[0];
        Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0];
        float[][] a = fwd(x, wt, bias, g, beta);
        same("again", a, fwd(x, wt, bias, g, beta));
        for (long seed : new long[]{0x5eed1L, 0xbadc0deL})
            try (AutoCloseable s = EmulatorSchedule.shuffled(p.cuda, seed)) {
                same("shuffled " + Long.toHexString(seed), a, fwd(x, wt, bias, g, beta));
            }
    }

    @Test void tapeMatchesTheUnfusedChain() {
        int n = 2, c = 3, h = 13, w = 17;
        Tensor x = p.normalT(1.5, 0.3, n, c, h, w)[0], wt = p.gaussT(c, 1, 7, 7)[0], bias = p.gaussT(c)[0];
        Tensor g = p.normalT(0.5, 1.0, c)[0], beta = p.gaussT(c)[0], gy = p.gaussT(n, c, h, w)[0];
        float[][] f = tape(true, x, wt, bias, g, beta, gy), u = tape(false, x, wt, bias, g, beta, gy);
        String[] names = {"out", "running_mean", "running_var", "dx", "dw", "db", "dgamma", "dbeta"};
        for (int k = 0; k < f.length; k++) {
            double num = 0, den = 0;
            for (int i = 0; i < f[k].length; i++) { num += Math.pow(f[k][i] - u[k][i], 2); den += Math.pow(u[k][i], 2); }
            double e = Math.sqrt(num / Math.max(den, 1e-30));
            assertTrue(den > 0 && e <= BN_TOL, names[k] + ": relative error " + e + " > " + BN_TOL);
        }
    }

    private float[][] tape(boolean fused, Tensor x0, Tensor w0, Tensor b0, Tensor g0, Tensor beta0, Tensor gy0) {
        int c = g0.dim(0);
        try (Tape t = new Tape(p.cuda, true)) {
            Var xin = Var.parameter("x", copy(x0), p.cuda.zeros(x0.shape()));
            Var w = Var.parameter("w", copy(w0), p.cuda.zeros(w0.shape())), b = Var.parameter("b", copy(b0), p.cuda.zeros(c));
            Var gamma = Var.parameter("gamma", copy(g0), p.cuda.zeros(c)), beta = Var.parameter("beta", copy(beta0), p.cuda.zeros(c));
            Tensor rm = p.cuda.zeros(c), rv = p.cuda.zeros(c);
            Var x = F.add(t, xin, xin);   // x used twice: its gradient is accumulated
            Var y = fused ? F.dwconv7Batchnorm(t, x, w, b, gamma, beta, rm, rv, 0.1f, 1e-5f)
                    : F.batchnormTrain(t, F.dwconv7(t, x, w, b), gamma, beta, rm, rv, 0.1f, 1e-5f);
            float[] out = p.cuda.download(y.value);
            t.backward(y, copy(gy0));
            return new float[][]{out, p.cuda.download(rm), p.cuda.download(rv), p.cuda.download(xin.grad()),
                    p.cuda.download(w.grad()), p.cuda.download(b.grad()), p.cuda.download(gamma.grad()),
                    p.cuda.download(beta.grad())};
        }
    }

    private float[][] fwd(Tensor x, Tensor wt, Tensor bias, Tensor g, Tensor beta) {
        int c = g.dim(0);
        Tensor rm = p.cuda.zeros(c), rv = p.cuda.zeros(c);
        Tensor[] f = p.cuda.dwconv7Batchnorm(x, wt, bias, g, beta, rm, rv, 0.1f, 1e-5f);
        return new float[][]{p.cuda.download(f[0]), p.cuda.download(f[1]), p.cuda.download(f[2]), p.cuda.download(f[3]),
                p.cuda.download(rm), p.cuda.download(rv)};
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
