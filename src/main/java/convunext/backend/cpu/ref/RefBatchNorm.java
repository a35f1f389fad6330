package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * BatchNorm2d in float64, mirroring {@code Backend.batchnormTrain/Eval/Backward}: statistics per
 * channel over (N,H,W); training normalises with the biased variance and updates the running
 * variance with the unbiased one (PyTorch).
 */
public final class RefBatchNorm {
    private RefBatchNorm() {}

    /**
     * {y, mean [C], invstd [C]} with invstd = 1/sqrt(var_biased + eps). When runMean/runVar are
     * non-null they are updated in place: r ← (1−m)·r + m·stat, with the unbiased variance.
     */
    public static D[] batchnormTrain(D x, D gamma, D beta, D runMean, D runVar, double momentum, double eps) {
        OpShapes.batchnormTrain(x.shape, gamma.shape, beta.shape, runMean == null ? null : runMean.shape,
                runVar == null ? null : runVar.shape);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        long count = (long) n * hw;
        D y = new D(x.shape), mean = new D(c), invstd = new D(c);
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) s += x.data[(in * c + ch) * hw + p];
            double mu = s / count;
            double ss = 0;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) {
                    double d = x.data[(in * c + ch) * hw + p] - mu;
                    ss += d * d;
                }
            double var = ss / count;
            double is = 1.0 / Math.sqrt(var + eps);
            mean.data[ch] = mu;
            invstd.data[ch] = is;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) {
                    int i = (in * c + ch) * hw + p;
                    y.data[i] = gamma.data[ch] * (x.data[i] - mu) * is + beta.data[ch];
                }
            if (runMean != null) runMean.data[ch] = (1 - momentum) * runMean.data[ch] + momentum * mu;
            if (runVar != null) runVar.data[ch] = (1 - momentum) * runVar.data[ch] + momentum * var * count / (count - 1);
        }
        return new D[] {y, mean, invstd};
    }

    /** y = γ·(x − running_mean)/sqrt(running_var + eps) + β. */
    public static D batchnormEval(D x, D gamma, D beta, D runMean, D runVar, double eps) {
        OpShapes.batchnormEval(x.shape, gamma.shape, beta.shape, runMean.shape, runVar.shape);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        D y = new D(x.shape);
        for (int in = 0; in < n; in++)
            for (int ch = 0; ch < c; ch++) {
                double is = 1.0 / Math.sqrt(runVar.data[ch] + eps);
                for (int p = 0; p < hw; p++) {
                    int i = (in * c + ch) * hw + p;
                    y.data[i] = gamma.data[ch] * (x.data[i] - runMean.data[ch]) * is + beta.data[ch];
                }
            }
        return y;
    }

    /**
     * Backward through the batch statistics: with x̂ = (x−μ)·invstd and m = N·H·W,
     * dx = γ·invstd/m·(m·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy. {dx, dgamma, dbeta}.
     */
    public static D[] batchnormBackward(D x, D dy, D gamma, D mean, D invstd) {
        OpShapes.batchnormBackward(x.shape, dy.shape, gamma.shape, mean.shape, invstd.shape);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        double m = (double) n * hw;
        D dx = new D(x.shape), dg = new D(c), db = new D(c);
        for (int ch = 0; ch < c; ch++) {
            double mu = mean.data[ch], is = invstd.data[ch];
            double sdy = 0, sdyx = 0;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) {
                    int i = (in * c + ch) * hw + p;
                    sdy += dy.data[i];
                    sdyx += dy.data[i] * (x.data[i] - mu) * is;
                }
            dg.data[ch] = sdyx;
            db.data[ch] = sdy;
            double k = gamma.data[ch] * is / m;
            for (int in = 0; in < n; in++)
                for (int p = 0; p < hw; p++) {
                    int i = (in * c + ch) * hw + p;
                    double xh = (x.data[i] - mu) * is;
                    dx.data[i] = k * (m * dy.data[i] - sdy - xh * sdyx);
                }
        }
        return new D[] {dx, dg, db};
    }
}
