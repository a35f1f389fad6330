package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
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
        long count = (long) n * p;
        Tensor y = be.empty(x.shape()), mean = be.empty(c), invstd = be.empty(c);
        float[] xa = x.array(), ya = y.array();
        int xo = x.off(), yo = y.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                // Shifted sums: exact enough in double even when |mean| ≫ std.
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
