package convunext.backend.cpu;

import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * BatchNorm2d (train, eval, backward) threaded over channels. Every statistic and every reduction
 * of the backward is accumulated in double; the per-element maps are float multiply-adds.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {}

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
                double[] acc = new double[2];
                for (int i = 0; i < n; i++) shiftedSums(xa, xo + (i * c + ch) * p, p, shift, acc);
                double s = acc[0], ss = acc[1];
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

    /**
     * acc[0] += Σ (x − shift), acc[1] += Σ (x − shift)² over x[o … o+len), in double. Eight
     * accumulators (element j into j mod 8, combined in a fixed order at the end): one chain of
     * dependent double adds ran at a third of an element per cycle, the statistics pass 3× slower
     * than the apply pass. The order depends on len only, so results do not depend on threads.
     */
    static void shiftedSums(float[] x, int o, int len, float shift, double[] acc) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        double q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
        int j = 0;
        for (; j + 8 <= len; j += 8) {
            double d0 = x[o + j] - shift, d1 = x[o + j + 1] - shift, d2 = x[o + j + 2] - shift, d3 = x[o + j + 3] - shift;
            double d4 = x[o + j + 4] - shift, d5 = x[o + j + 5] - shift, d6 = x[o + j + 6] - shift, d7 = x[o + j + 7] - shift;
            s0 += d0; s1 += d1; s2 += d2; s3 += d3; s4 += d4; s5 += d5; s6 += d6; s7 += d7;
            q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
            q4 += d4 * d4; q5 += d5 * d5; q6 += d6 * d6; q7 += d7 * d7;
        }
        for (; j < len; j++) {
            double d = x[o + j] - shift;
            s0 += d;
            q0 += d * d;
        }
        acc[0] += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        acc[1] += ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7));
    }

    /** acc[0] += Σ g, acc[1] += Σ g·(x − m) over g = dy[go …], x[xo …], len elements, in double (as shiftedSums). */
    static void gradSums(float[] dy, int go, float[] x, int xo, int len, float m, double[] acc) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        double q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
        int j = 0;
        for (; j + 8 <= len; j += 8) {
            double g0 = dy[go + j], g1 = dy[go + j + 1], g2 = dy[go + j + 2], g3 = dy[go + j + 3];
            double g4 = dy[go + j + 4], g5 = dy[go + j + 5], g6 = dy[go + j + 6], g7 = dy[go + j + 7];
            s0 += g0; s1 += g1; s2 += g2; s3 += g3; s4 += g4; s5 += g5; s6 += g6; s7 += g7;
            q0 += g0 * (x[xo + j] - m); q1 += g1 * (x[xo + j + 1] - m); q2 += g2 * (x[xo + j + 2] - m);
            q3 += g3 * (x[xo + j + 3] - m); q4 += g4 * (x[xo + j + 4] - m); q5 += g5 * (x[xo + j + 5] - m);
            q6 += g6 * (x[xo + j + 6] - m); q7 += g7 * (x[xo + j + 7] - m);
        }
        for (; j < len; j++) {
            double g = dy[go + j];
            s0 += g;
            q0 += g * (x[xo + j] - m);
        }
        acc[0] += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        acc[1] += ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7));
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
                double[] acc = new double[2];
                for (int i = 0; i < n; i++) gradSums(ga, go + (i * c + ch) * p, xa, xo + (i * c + ch) * p, p, m, acc);
                double sdy = acc[0], sdyx = acc[1];
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
}
