package convunext.backend.cpu;

import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * BatchNorm2d (train, eval, backward) threaded over channels, and the channels-first LayerNorm
 * threaded over pixel blocks. Every statistic and every reduction of the backward is accumulated
 * in double; the per-element maps are float multiply-adds.
 */
final class CpuNorm {
    private CpuNorm() {}

    private static void perChannel(String op, Tensor x, Tensor... params) {
        Shapes.rank(op, "x", x, 4);
        for (Tensor p : params) Shapes.shape(op, "per-channel parameter", p, x.dim(1));
    }

    static Tensor[] batchnormTrain(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps) {
        perChannel("batchnormTrain", x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        long count = (long) n * p;
        Shapes.require(count > 1, "batchnormTrain", "needs more than one value per channel, got " + x.shapeString());
        Tensor y = be.empty(x.shape()), mean = be.empty(c), invstd = be.empty(c);
        float[] xa = x.array(), ya = y.array();
        int xo = x.off(), yo = y.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                // Shifted sums: exact enough in double even when |mean| ≫ std.
                float shift = xa[xo + ch * p];
                double s = 0, ss = 0;
                for (int i = 0; i < n; i++) {
                    int o = xo + (i * c + ch) * p;
                    for (int j = 0; j < p; j++) {
                        double d = xa[o + j] - shift;
                        s += d;
                        ss += d * d;
                    }
                }
                double mu = s / count, var = Math.max(0, ss / count - mu * mu);
                double m = shift + mu, inv = 1 / Math.sqrt(var + eps);
                mean.array()[mean.off() + ch] = (float) m;
                invstd.array()[invstd.off() + ch] = (float) inv;
                float[] rm = runMean.array(), rv = runVar.array();
                rm[runMean.off() + ch] = (float) ((1 - momentum) * rm[runMean.off() + ch] + momentum * m);
                rv[runVar.off() + ch] = (float) ((1 - momentum) * rv[runVar.off() + ch] + momentum * var * count / (count - 1));
                affine(xa, xo, ya, yo, n, c, p, ch, (float) m,
                        (float) (gamma.array()[gamma.off() + ch] * inv), beta.array()[beta.off() + ch]);
            }
        });
        return new Tensor[] {y, mean, invstd};
    }

    /** y = (x − m)·a + b over channel ch. */
    private static void affine(float[] x, int xo, float[] y, int yo, int n, int c, int p, int ch, float m, float a, float b) {
        for (int i = 0; i < n; i++) {
            int o = (i * c + ch) * p;
            for (int j = 0; j < p; j++) y[yo + o + j] = Math.fma(x[xo + o + j] - m, a, b);
        }
    }

    static Tensor batchnormEval(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        perChannel("batchnormEval", x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor y = be.empty(x.shape());
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double inv = 1 / Math.sqrt(runVar.array()[runVar.off() + ch] + (double) eps);
                affine(x.array(), x.off(), y.array(), y.off(), n, c, p, ch, runMean.array()[runMean.off() + ch],
                        (float) (gamma.array()[gamma.off() + ch] * inv), beta.array()[beta.off() + ch]);
            }
        });
        return y;
    }

    static Tensor[] batchnormBackward(CpuBackend be, Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        perChannel("batchnormBackward", x, gamma, mean, invstd);
        Shapes.same("batchnormBackward", x, dy);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        long count = (long) n * p;
        Tensor dx = be.empty(x.shape()), dgamma = be.empty(c), dbeta = be.empty(c);
        float[] xa = x.array(), ga = dy.array(), dxa = dx.array();
        int xo = x.off(), go = dy.off(), dxo = dx.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                float m = mean.array()[mean.off() + ch];
                double inv = invstd.array()[invstd.off() + ch], gm = gamma.array()[gamma.off() + ch];
                double sdy = 0, sdyx = 0;
                for (int i = 0; i < n; i++) {
                    int o = (i * c + ch) * p;
                    for (int j = 0; j < p; j++) {
                        double g = ga[go + o + j];
                        sdy += g;
                        sdyx += g * (xa[xo + o + j] - m);
                    }
                }
                dgamma.array()[dgamma.off() + ch] = (float) (sdyx * inv);
                dbeta.array()[dbeta.off() + ch] = (float) sdy;
                // dx = γ·inv·(dy − mean(dy) − (x−μ)·inv²·mean(dy·(x−μ)))
                float k1 = (float) (gm * inv);
                float k2 = (float) (-gm * inv * inv * inv * sdyx / count);
                float k3 = (float) (-gm * inv * sdy / count);
                for (int i = 0; i < n; i++) {
                    int o = (i * c + ch) * p;
                    for (int j = 0; j < p; j++)
                        dxa[dxo + o + j] = Math.fma(k1, ga[go + o + j], Math.fma(k2, xa[xo + o + j] - m, k3));
                }
            }
        });
        return new Tensor[] {dx, dgamma, dbeta};
    }

    /** Pixels per LayerNorm task: the per-pixel double accumulators stay in L1. */
    private static final int LN_BLOCK = 512;
    /** Partial-sum tasks of the LayerNorm backward (enough for 16 threads, 4 tasks each). */
    private static final int LN_PARTIALS = 64;

    static Tensor[] layernorm(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, float eps) {
        perChannel("layernorm", x, gamma, beta);
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
        perChannel("layernormBackward", x, gamma);
        Shapes.same("layernormBackward", x, dy);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.shape("layernormBackward", "mean", mean, n, x.dim(2), x.dim(3));
        Shapes.shape("layernormBackward", "invstd", invstd, n, x.dim(2), x.dim(3));
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
