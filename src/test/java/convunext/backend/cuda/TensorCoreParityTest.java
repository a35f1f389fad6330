package convunext.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.Precision;
import convunext.backend.cpu.ref.RefBackend;
import convunext.tensor.Tensor;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The tensor-core kernels ({@code --precision tf32|bf16}: gemm.cu's and conv2d.cu's K_tf32 / K_bf16,
 * selected by the launcher) against the float64 oracle on the unrounded inputs, element by element,
 * within the bound the format's unit roundoff u gives for a product of rounded operands summed in
 * float: |got - want| <= ((2u + u^2)(1 + g) + g) * sum_k |a_k b_k| + 1e-6 |want|, g = K 2^-24 / (1 - K 2^-24)
 * (each operand rounded once: a relative error of at most u each; the exact product then has
 * (1+d1)(1+d2); float accumulation of K terms adds g; 1e-6 |want| for the float bias add and
 * stores). sum_k |a_k b_k| is the same op run by the oracle on |a| and |b|. Through an exact GELU
 * epilogue the bound is multiplied by max |gelu'| = 1.13; through GELU' by |gelu'(pre)| (<= 1.13).
 * Shapes reach every tile (forward / data BM 128, 64, 32; weight 128x128 ... 32x32) on odd sizes.
 */
class TensorCoreParityTest {
    static final double GELU_LIP = 1.13;

    /** The bound's factor for K terms in precision p. */
    static double factor(Precision p, long k) {
        double u = p.unitRoundoff(), g = k * 0x1p-24 / (1 - k * 0x1p-24);
        return (2 * u + u * u) * (1 + g) + g;
    }

    static final class Case implements AutoCloseable {
        final CudaBackend cuda;
        final RefBackend ref = new RefBackend();
        final Random rnd = new Random(71);
        final Precision p;

        Case(Precision p) {
            this.p = p;
            cuda = CudaBackend.open(Parity.DEVICE, p);
            String sfx = "_" + p;   // the launcher runs the tensor-core forms (else this test would check fp32)
            for (String kname : new String[]{"gemm_forward_bm128", "gemm_forward_gelu_bm32", "gemm_backward_data_bm64",
                    "gemm_backward_data_gelu_bm128", "gemm_backward_weight_part_32x32", "conv2d_forward_k7s1p3r_bm32",
                    "conv2d_backward_weight_part_k2s2p0_64x64", "conv2d_backward_data_k2s2p0_bm32", "conv2d_backward_data_k2s2p0_bm64"})
                assertTrue(cuda.launcher().variant(kname).equals(kname + sfx), kname + " has no " + sfx + " form");
        }

        float[] gauss(int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
            return a;
        }

        Tensor[] up(float[] d, int... shape) { return new Tensor[]{cuda.upload(d, shape), ref.upload(d, shape)}; }

        Tensor[] gaussT(int... shape) { return up(gauss(Parity.numel(shape)), shape); }

        /** |t| on the oracle. */
        Tensor abs(Tensor r) {
            float[] v = ref.download(r);
            for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
            return ref.upload(v, r.shape());
        }

        /** |got - want| <= tolFactor * bound + 1e-6 |want| elementwise, the bound's terms from the oracle. */
        void check(String what, Tensor got, Tensor want, Tensor bound, double tolFactor) {
            float[] g = cuda.download(got), w = ref.download(want), s = ref.download(bound);
            int worst = -1;
            double worstRatio = 0;
            for (int i = 0; i < w.length; i++) {
                double lim = tolFactor * s[i] + 1e-6 * Math.abs(w[i]) + 1e-30;
                double r = Math.abs((double) g[i] - w[i]) / lim;
                if (!(r <= worstRatio)) { worstRatio = r; worst = i; }
            }
            assertTrue(worstRatio <= 1.0, what + " (" + p + "): element " + worst + " is " + (worst < 0 ? "?" : g[worst])
                    + ", float64 " + (worst < 0 ? "?" : w[worst]) + ": " + worstRatio + " x the bound");
        }

        @Override public void close() { cuda.close(); }
    }

    void linearCase(Case c, int n, int ci, int co, int h, int w) {
        String tag = "linear n" + n + " ci" + ci + " co" + co + " " + h + "x" + w;
        Tensor[] x = c.gaussT(n, ci, h, w), wt = c.gaussT(co, ci), b = c.gaussT(co), dy = c.gaussT(n, co, h, w);
        Tensor ax = c.abs(x[1]), aw = c.abs(wt[1]), ady = c.abs(dy[1]);
        Tensor sy = c.ref.linear(ax, aw, null);
        c.check(tag + " y", c.cuda.linear(x[0], wt[0], b[0]), c.ref.linear(x[1], wt[1], b[1]), sy, factor(c.p, ci));
        Tensor[] gc = c.cuda.linearBackward(x[0], wt[0], dy[0], true, true);
        Tensor[] gr = c.ref.linearBackward(x[1], wt[1], dy[1], true, true);
        Tensor[] sb = c.ref.linearBackward(ax, aw, ady, true, true);
        c.check(tag + " dx", gc[0], gr[0], sb[0], factor(c.p, co));
        c.check(tag + " dw", gc[1], gr[1], sb[1], factor(c.p, (long) n * h * w));
        c.check(tag + " db (unrounded)", gc[2], gr[2], sb[2], (long) n * h * w * 0x1p-23);
        Tensor[] hc = c.cuda.linearGelu(x[0], wt[0], b[0], true), hr = c.ref.linearGelu(x[1], wt[1], b[1], true);
        c.check(tag + " gelu h", hc[0], hr[0], sy, GELU_LIP * factor(c.p, ci));
        c.check(tag + " gelu pre", hc[1], hr[1], sy, factor(c.p, ci));
        // dpre = (w2^T . dy2) * gelu'(pre): w2 [ci, co] maps the hidden co channels back to ci.
        Tensor[] w2 = c.gaussT(ci, co), dy2 = c.gaussT(n, ci, h, w);
        Tensor[] pre = c.up(c.ref.download(hr[1]), n, co, h, w);
        Tensor sd = c.ref.linearBackward(c.abs(pre[1]), c.abs(w2[1]), c.abs(dy2[1]), true, false)[0];
        c.check(tag + " dpre", c.cuda.linearBackwardDataGelu(w2[0], dy2[0], pre[0]),
                c.ref.linearBackwardDataGelu(w2[1], dy2[1], pre[1]), sd, GELU_LIP * factor(c.p, ci));
    }

    void convCase(Case c, int n, int ci, int co, int h, int w, int k, int s, int pad, boolean reflect) {
        String tag = "conv " + k + "x" + k + " ci" + ci + " co" + co + " " + h + "x" + w;
        Tensor[] x = c.gaussT(n, ci, h, w), wt = c.gaussT(co, ci, k, k), b = c.gaussT(co);
        Tensor yr = c.ref.conv2d(x[1], wt[1], b[1], s, pad, reflect);
        Tensor ax = c.abs(x[1]), aw = c.abs(wt[1]);
        c.check(tag + " y", c.cuda.conv2d(x[0], wt[0], b[0], s, pad, reflect), yr, c.ref.conv2d(ax, aw, null, s, pad, reflect),
                factor(c.p, (long) ci * k * k));
        Tensor[] dy = c.up(c.gauss((int) yr.numel()), yr.shape());
        Tensor[] gc = c.cuda.conv2dBackward(x[0], wt[0], dy[0], s, pad, reflect, true, true);
        Tensor[] gr = c.ref.conv2dBackward(x[1], wt[1], dy[1], s, pad, reflect, true, true);
        Tensor[] sb = c.ref.conv2dBackward(ax, aw, c.abs(dy[1]), s, pad, reflect, true, true);
        c.check(tag + " dw", gc[1], gr[1], sb[1], factor(c.p, yr.numel() / co));
        c.check(tag + " db (unrounded)", gc[2], gr[2], sb[2], yr.numel() / co * 0x1p-23);
        // dx: the 2x2 stride-2 one runs on the tensor cores, the 7x7 gather in fp32
        c.check(tag + " dx", gc[0], gr[0], sb[0], k == 2 ? factor(c.p, co) : 1e-5);
    }

    @ParameterizedTest @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void linearEveryTile(Precision p) {
        try (Case c = new Case(p)) {
            linearCase(c, 2, 7, 70, 9, 11);     // bm32 both ways, dW 32x32
            linearCase(c, 1, 40, 24, 12, 12);   // dx bm64, aligned
            linearCase(c, 1, 128, 128, 5, 7);   // bm128, dW 128x128
            linearCase(c, 1, 24, 120, 4, 8);    // dW 128x32
            linearCase(c, 1, 120, 20, 4, 8);    // dW 32x128
            linearCase(c, 1, 60, 60, 3, 3);     // bm64, dW 64x64
        }
    }

    @ParameterizedTest @EnumSource(value = Precision.class, names = {"TF32", "BF16"})
    void convModelShapes(Precision p) {
        try (Case c = new Case(p)) {
            convCase(c, 2, 3, 9, 9, 11, 7, 1, 3, true);     // stem, bm32
            convCase(c, 1, 3, 40, 8, 8, 7, 1, 3, true);     // stem, bm64
            convCase(c, 2, 5, 11, 9, 13, 2, 2, 0, false);   // down, odd sizes
            convCase(c, 1, 64, 120, 8, 8, 2, 2, 0, false);  // down, dW 128x128, dx bm128
            convCase(c, 1, 30, 20, 9, 7, 2, 2, 0, false);   // down, dx bm64 (2Ci = 60 rows), odd sizes
        }
    }
}
