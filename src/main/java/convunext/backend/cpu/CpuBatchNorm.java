package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * BatchNorm2d (train, eval, backward) threaded over channels. Every statistic and every reduction
 * of the backward is accumulated in double ({@link SimdOps#bnSums}, {@link SimdOps#bnGradSums}: per
 * plane, in an order fixed by the shape, so any thread gives the same bits); the per-element maps
 * are float multiply-adds ({@link SimdOps#bnApply}, {@link SimdOps#bnBackwardApply}).
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {}

    private static final SimdOps ops = SimdOps.BEST;

    static Tensor[] batchnormTrain(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor y = be.empty(x.shape()), mean = be.empty(c), invstd = be.empty(c);
        float[] xa = x.array(), ya = y.array();
        int xo = x.off(), yo = y.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            float[] ma = new float[2];
            for (int ch = c0; ch < c1; ch++) {
                statistics(x, gamma, runMean, runVar, momentum, eps, ch, mean, invstd, ma);
                affine(xa, xo, ya, yo, n, c, p, ch, ma[0], ma[1], beta.array()[beta.off() + ch]);
            }
        });
        return new Tensor[] {y, mean, invstd};
    }

    /**
     * Channel ch's batch statistics (shifted sums in double: exact enough even when |mean| ≫ std)
     * into mean and invstd, the running statistics updated in place; ma gets {m, a}: the affine
     * y = (x − m)·a + β with a = γ·invstd.
     */
    private static void statistics(Tensor x, Tensor gamma, Tensor runMean, Tensor runVar, float momentum, float eps,
                                   int ch, Tensor mean, Tensor invstd, float[] ma) {
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        long count = (long) n * p;
        float[] xa = x.array();
        int xo = x.off();
        float shift = xa[xo + ch * p];
        double[] acc = new double[2];
        for (int i = 0; i < n; i++) ops.bnSums(xa, xo + (i * c + ch) * p, p, shift, acc);
        double mu = acc[0] / count, var = Math.max(0, acc[1] / count - mu * mu);
        double m = shift + mu, inv = 1 / Math.sqrt(var + eps);
        mean.array()[mean.off() + ch] = (float) m;
        invstd.array()[invstd.off() + ch] = (float) inv;
        float[] rm = runMean.array(), rv = runVar.array();
        rm[runMean.off() + ch] = (float) ((1 - momentum) * rm[runMean.off() + ch] + momentum * m);
        rv[runVar.off() + ch] = (float) ((1 - momentum) * rv[runVar.off() + ch] + momentum * var * count / (count - 1));
        ma[0] = (float) m;
        ma[1] = (float) (gamma.array()[gamma.off() + ch] * inv);
    }

    /** Floats per affine-add-GELU step of {@link #batchnormAddGelu}: the step stays in L1 between its passes. */
    private static final int STEP = 1024;

    /**
     * Training BatchNorm, the residual and GELU in one op: out = gelu(res + BN(x)) (res null:
     * gelu(BN(x))), {out, mean, invstd, pre (the GELU's input; null unless keepPre)}. Per channel
     * the statistics, then per step of {@link #STEP} floats BN's affine into pre (else out), res
     * added, GELU into out while the step is in L1: the operations of batchnormTrain then addGelu
     * (or gelu), each element's value independent of where it falls in a vector, so the same bits,
     * without BN's output written to memory and read back (the interface's default composition did).
     */
    static Tensor[] batchnormAddGelu(CpuBackend be, Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean,
                                     Tensor runVar, float momentum, float eps, boolean keepPre) {
        OpShapes.batchnormTrain(of(x), of(gamma), of(beta), of(runMean), of(runVar));
        if (res != null) Shapes.same("batchnormAddGelu", x, res);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor out = be.empty(x.shape()), pre = keepPre ? be.empty(x.shape()) : null, mean = be.empty(c), invstd = be.empty(c);
        Tensor d = keepPre ? pre : out;
        float[] xa = x.array(), da = d.array(), oa = out.array(), ra = res == null ? null : res.array();
        int xo = x.off(), dOff = d.off(), oo = out.off(), ro = res == null ? 0 : res.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            float[] ma = new float[2];
            for (int ch = c0; ch < c1; ch++) {
                statistics(x, gamma, runMean, runVar, momentum, eps, ch, mean, invstd, ma);
                float m = ma[0], a = ma[1], b = beta.array()[beta.off() + ch];
                for (int i = 0; i < n; i++)
                    for (int j0 = 0, o = (i * c + ch) * p; j0 < p; j0 += STEP) {
                        int len = Math.min(STEP, p - j0), e = o + j0;
                        ops.bnApply(xa, xo + e, da, dOff + e, len, m, a, b);
                        if (ra != null)
                            for (int j = 0; j < len; j++) da[dOff + e + j] = ra[ro + e + j] + da[dOff + e + j];
                        ops.gelu(da, dOff + e, oa, oo + e, len);
                    }
            }
        });
        return new Tensor[] {out, mean, invstd, pre};
    }

    /** y = (x − m)·a + b over channel ch. */
    private static void affine(float[] x, int xo, float[] y, int yo, int n, int c, int p, int ch, float m, float a, float b) {
        for (int i = 0; i < n; i++) {
            int o = (i * c + ch) * p;
            ops.bnApply(x, xo + o, y, yo + o, p, m, a, b);
        }
    }

    static Tensor batchnormEval(CpuBackend be, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        OpShapes.batchnormEval(of(x), of(gamma), of(beta), of(runMean), of(runVar));
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
        OpShapes.batchnormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        long count = (long) n * p;
        Tensor dx = be.empty(x.shape()), dgamma = be.empty(c), dbeta = be.empty(c);
        float[] xa = x.array(), ga = dy.array(), dxa = dx.array();
        int xo = x.off(), go = dy.off(), dxo = dx.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                float m = mean.array()[mean.off() + ch];
                double inv = invstd.array()[invstd.off() + ch], gm = gamma.array()[gamma.off() + ch];
                double[] acc = new double[2];
                for (int i = 0; i < n; i++) {
                    int o = (i * c + ch) * p;
                    ops.bnGradSums(ga, go + o, xa, xo + o, p, m, acc);
                }
                double sdy = acc[0], sdyx = acc[1];
                dgamma.array()[dgamma.off() + ch] = (float) (sdyx * inv);
                dbeta.array()[dbeta.off() + ch] = (float) sdy;
                // dx = γ·inv·(dy − mean(dy) − (x−μ)·inv²·mean(dy·(x−μ)))
                float k1 = (float) (gm * inv);
                float k2 = (float) (-gm * inv * inv * inv * sdyx / count);
                float k3 = (float) (-gm * inv * sdy / count);
                for (int i = 0; i < n; i++) {
                    int o = (i * c + ch) * p;
                    ops.bnBackwardApply(xa, xo + o, ga, go + o, dxa, dxo + o, p, m, k1, k2, k3);
                }
            }
        });
        return new Tensor[] {dx, dgamma, dbeta};
    }
}
