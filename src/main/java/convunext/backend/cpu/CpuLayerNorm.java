package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * The channels-first LayerNorm (ConvNeXt) threaded over pixel blocks. Every statistic and every
 * reduction of the backward is accumulated in double.
 */
final class CpuLayerNorm {
    private CpuLayerNorm() {}

    /** Pixels per LayerNorm task: the per-pixel double accumulators stay in L1. */
    private static final int LN_BLOCK = 512;
    /** Partial-sum tasks of the LayerNorm backward (enough for 16 threads, 4 tasks each). */
    private static final int LN_PARTIALS = 64;

    static Tensor[] layernorm(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, float eps) {
        OpShapes.layernorm(of(x), of(gamma), of(beta));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor y = be.empty(x.shape()), mean = be.empty(n, x.dim(2), x.dim(3)), invstd = be.empty(n, x.dim(2), x.dim(3));
        float[] xa = x.array(), ya = y.array(), ma = mean.array(), ia = invstd.array(), g = gamma.array(), b = beta.array();
        int xo = x.off(), yo = y.off(), mo = mean.off(), io = invstd.off(), gof = gamma.off(), bof = beta.off();
        int blocks = (p + LN_BLOCK - 1) / LN_BLOCK;
        CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
            double[] s = new double[LN_BLOCK], ss = new double[LN_BLOCK];
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, q0 = t % blocks * LN_BLOCK, len = Math.min(LN_BLOCK, p - q0);
                int base = xo + i * c * p + q0;
                java.util.Arrays.fill(s, 0);
                java.util.Arrays.fill(ss, 0);
                for (int ch = 0; ch < c; ch++)
                    for (int j = 0; j < len; j++) s[j] += xa[base + ch * p + j];
                for (int j = 0; j < len; j++) s[j] /= c;
                for (int ch = 0; ch < c; ch++)
                    for (int j = 0; j < len; j++) {
                        double d = xa[base + ch * p + j] - s[j];
                        ss[j] += d * d;
                    }
                for (int j = 0; j < len; j++) {
                    double inv = 1 / Math.sqrt(ss[j] / c + eps);
                    ss[j] = inv;
                    ma[mo + i * p + q0 + j] = (float) s[j];
                    ia[io + i * p + q0 + j] = (float) inv;
                }
                int ob = yo + i * c * p + q0;
                for (int ch = 0; ch < c; ch++) {
                    double gc = g[gof + ch], bc = b[bof + ch];
                    for (int j = 0; j < len; j++)
                        ya[ob + ch * p + j] = (float) ((xa[base + ch * p + j] - s[j]) * ss[j] * gc + bc);
                }
            }
        });
        return new Tensor[] {y, mean, invstd};
    }

    static Tensor[] layernormBackward(CpuBackend be, Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        OpShapes.layernormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor dx = be.empty(x.shape()), dgamma = be.empty(c), dbeta = be.empty(c);
        float[] xa = x.array(), ga = dy.array(), dxa = dx.array(), ma = mean.array(), ia = invstd.array(), g = gamma.array();
        int xo = x.off(), go = dy.off(), dxo = dx.off(), mo = mean.off(), io = invstd.off(), gof = gamma.off();
        // A fixed number of partial sums (not one per thread): dγ, dβ then do not depend on the thread count.
        int blocks = (p + LN_BLOCK - 1) / LN_BLOCK, tasks = Math.min(n * blocks, LN_PARTIALS);
        double[][] pg = new double[tasks][c], pb = new double[tasks][c];
        CpuThreads.parallelFor(tasks, task -> {
            double[] sa = new double[LN_BLOCK], sb = new double[LN_BLOCK];
            int t0 = (int) ((long) n * blocks * task / tasks), t1 = (int) ((long) n * blocks * (task + 1) / tasks);
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, q0 = t % blocks * LN_BLOCK, len = Math.min(LN_BLOCK, p - q0);
                int base = i * c * p + q0, st = i * p + q0;
                java.util.Arrays.fill(sa, 0);
                java.util.Arrays.fill(sb, 0);
                // sa = Σ_c γ·dy, sb = Σ_c γ·dy·x̂ at each pixel; dγ, dβ per channel.
                for (int ch = 0; ch < c; ch++) {
                    double gc = g[gof + ch], accG = 0, accB = 0;
                    for (int j = 0; j < len; j++) {
                        double d = ga[go + base + ch * p + j];
                        double xh = (xa[xo + base + ch * p + j] - ma[mo + st + j]) * (double) ia[io + st + j];
                        sa[j] += gc * d;
                        sb[j] += gc * d * xh;
                        accG += d * xh;
                        accB += d;
                    }
                    pg[task][ch] += accG;
                    pb[task][ch] += accB;
                }
                for (int ch = 0; ch < c; ch++) {
                    double gc = g[gof + ch];
                    for (int j = 0; j < len; j++) {
                        double inv = ia[io + st + j];
                        double xh = (xa[xo + base + ch * p + j] - ma[mo + st + j]) * inv;
                        double d = gc * ga[go + base + ch * p + j];
                        dxa[dxo + base + ch * p + j] = (float) (inv * (d - sa[j] / c - xh * sb[j] / c));
                    }
                }
            }
        });
        for (int ch = 0; ch < c; ch++) {
            double sg = 0, sbeta = 0;
            for (int t = 0; t < tasks; t++) {
                sg += pg[t][ch];
                sbeta += pb[t][ch];
            }
            dgamma.array()[dgamma.off() + ch] = (float) sg;
            dbeta.array()[dbeta.off() + ch] = (float) sbeta;
        }
        return new Tensor[] {dx, dgamma, dbeta};
    }
}
