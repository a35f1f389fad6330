package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Cross-entropy (mean over non-ignored pixels, ignore 255) + 1 − mean soft Dice, and its gradient,
 * in two passes per image (threaded over images): softmax + sums, then the gradient. All sums in
 * double. With g = dL/dp at a pixel, dL/dz_k = p_k·(g_k − Σ_j p_j·g_j).
 */
final class CpuLoss {
    private CpuLoss() {}

    private static final double SMOOTH = 1e-6;

    static LossResult ceDice(CpuBackend be, Tensor logits, Tensor target) {
        OpShapes.ceDiceLoss(of(logits), of(target));
        int n = logits.dim(0), k = logits.dim(1), h = logits.dim(2), w = logits.dim(3), p = h * w;
        Tensor grad = be.empty(logits.shape());
        float[] z = logits.array(), t = target.array(), g = grad.array();
        int zo = logits.off(), to = target.off(), go = grad.off();
        double[] ceSum = new double[n];
        long[] valid = new long[n];
        double[][] inter = new double[n][], sumP = new double[n][], sumT = new double[n][];   // rows set by each image's task
        // Pass 1: softmax probabilities into grad, CE and the Dice sums.
        // Each image's sums in the task's own arrays, stored once at the end: accumulated in place,
        // the images' small arrays shared cache lines, and the two threads' updates of every pixel
        // invalidated each other's copy (the pass ran no faster on two threads than on one).
        CpuThreads.parallelFor(n, i -> {
            double[] e = new double[k], in = new double[k], sp = new double[k], st = new double[k];
            double ceI = 0;
            long validI = 0;
            for (int q = 0; q < p; q++) {
                int cls = label(t[to + i * p + q], k);
                double mx = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) mx = Math.max(mx, z[zo + (i * k + c) * p + q]);
                double s = 0;
                for (int c = 0; c < k; c++) {
                    // exp(0) is exactly 1: the largest logit's term (at K = 2, half the exps) skips
                    // the call, with the same bits (a NaN difference still goes through exp).
                    double d = z[zo + (i * k + c) * p + q] - mx;
                    s += e[c] = d == 0 ? 1.0 : Math.exp(d);
                }
                for (int c = 0; c < k; c++) {
                    double pr = e[c] / s;
                    g[go + (i * k + c) * p + q] = (float) pr;
                    if (cls >= 0) {
                        sp[c] += pr;
                        if (c == cls) in[c] += pr;
                    }
                }
                if (cls >= 0) {
                    validI++;
                    st[cls] += 1;
                    ceI += mx + Math.log(s) - z[zo + (i * k + cls) * p + q];
                }
            }
            inter[i] = in;
            sumP[i] = sp;
            sumT[i] = st;
            ceSum[i] = ceI;
            valid[i] = validI;
        });
        long count = 0;
        double ce = 0;
        for (int i = 0; i < n; i++) {
            count += valid[i];
            ce += ceSum[i];
        }
        // No kept pixel at all: PyTorch's CE is 0/0; the oracle (and this backend) use 0 instead.
        ce = count == 0 ? 0 : ce / count;
        double diceMean = 0;
        // dL/dp_c = −(1/(K·N))·(2·t_c/(S+ε) − (2I+ε)/(S+ε)²) on valid pixels (0 where S = 0: dice ≡ 1).
        double[][] aCoef = new double[n][k], bCoef = new double[n][k];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < k; c++) {
                double in = inter[i][c], sets = sumP[i][c] + sumT[i][c];
                boolean empty = sets == 0;
                if (empty) sets = 2 * in;
                diceMean += (2 * in + SMOOTH) / (sets + SMOOTH) / ((double) n * k);
                if (!empty) {
                    double scale = -1.0 / ((double) n * k), den = sets + SMOOTH;
                    aCoef[i][c] = scale * 2 / den;
                    bCoef[i][c] = -scale * (2 * in + SMOOTH) / (den * den);
                }
            }
        double ceScale = count == 0 ? 0 : 1.0 / count;
        // Pass 2: gradient. grad currently holds the probabilities.
        CpuThreads.parallelFor(n, i -> {
            double[] pr = new double[k], gp = new double[k];
            for (int q = 0; q < p; q++) {
                int cls = label(t[to + i * p + q], k);
                if (cls < 0) {
                    for (int c = 0; c < k; c++) g[go + (i * k + c) * p + q] = 0f;
                    continue;
                }
                double dot = 0;
                for (int c = 0; c < k; c++) {
                    pr[c] = g[go + (i * k + c) * p + q];
                    gp[c] = bCoef[i][c] + (c == cls ? aCoef[i][c] : 0);
                    dot += pr[c] * gp[c];
                }
                for (int c = 0; c < k; c++) {
                    double d = pr[c] * (gp[c] - dot) + ceScale * (pr[c] - (c == cls ? 1 : 0));
                    g[go + (i * k + c) * p + q] = (float) d;
                }
            }
        });
        double dice = 1 - diceMean;
        return new LossResult(ce + dice, ce, dice, grad);
    }

    /** Class index of a target value, −1 for the ignore index; anything else is an error. */
    private static int label(float v, int k) {
        if (v == Backend.IGNORE_INDEX) return -1;
        int c = (int) v;
        if (c != v || c < 0 || c >= k)
            throw new IllegalArgumentException("ceDiceLoss: target value " + v + " is not a class in [0," + k + ") or " + Backend.IGNORE_INDEX);
        return c;
    }
}
