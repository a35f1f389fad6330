package convunext.backend.cpu.ref;

import convunext.backend.OpShapes;

/**
 * Channels-first LayerNorm (ConvNeXt's LayerNorm2d) in float64, mirroring
 * {@code Backend.layernorm/layernormBackward}: at each (n,y,x) normalise over C with the biased
 * variance, y = γ·(x−μ)·invstd + β, invstd = 1/sqrt(var + eps).
 */
public final class RefLayerNorm {
    private RefLayerNorm() {}

    /** {y, mean [N,H,W], invstd [N,H,W]}. */
    public static D[] layernorm(D x, D gamma, D beta, double eps) {
        OpShapes.layernorm(x.shape, gamma.shape, beta.shape);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), hw = h * w;
        D y = new D(x.shape), mean = new D(n, h, w), invstd = new D(n, h, w);
        for (int in = 0; in < n; in++)
            for (int p = 0; p < hw; p++) {
                double s = 0;
                for (int ch = 0; ch < c; ch++) s += x.data[(in * c + ch) * hw + p];
                double mu = s / c, ss = 0;
                for (int ch = 0; ch < c; ch++) {
                    double d = x.data[(in * c + ch) * hw + p] - mu;
                    ss += d * d;
                }
                double is = 1.0 / Math.sqrt(ss / c + eps);
                mean.data[in * hw + p] = mu;
                invstd.data[in * hw + p] = is;
                for (int ch = 0; ch < c; ch++) {
                    int i = (in * c + ch) * hw + p;
                    y.data[i] = gamma.data[ch] * (x.data[i] - mu) * is + beta.data[ch];
                }
            }
        return new D[] {y, mean, invstd};
    }

    /**
     * With x̂ = (x−μ)·invstd and ĝ = dy·γ per pixel: dx = invstd/C·(C·ĝ − Σ_c ĝ − x̂·Σ_c ĝ·x̂),
     * dγ = Σ_{n,y,x} dy·x̂, dβ = Σ_{n,y,x} dy. {dx, dgamma, dbeta}.
     */
    public static D[] layernormBackward(D x, D dy, D gamma, D mean, D invstd) {
        OpShapes.layernormBackward(x.shape, dy.shape, gamma.shape, mean.shape, invstd.shape);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), hw = h * w;
        D dx = new D(x.shape), dg = new D(c), db = new D(c);
        for (int in = 0; in < n; in++)
            for (int p = 0; p < hw; p++) {
                double mu = mean.data[in * hw + p], is = invstd.data[in * hw + p];
                double sg = 0, sgx = 0;
                for (int ch = 0; ch < c; ch++) {
                    int i = (in * c + ch) * hw + p;
                    double xh = (x.data[i] - mu) * is, g = dy.data[i] * gamma.data[ch];
                    sg += g;
                    sgx += g * xh;
                    dg.data[ch] += dy.data[i] * xh;
                    db.data[ch] += dy.data[i];
                }
                for (int ch = 0; ch < c; ch++) {
                    int i = (in * c + ch) * hw + p;
                    double xh = (x.data[i] - mu) * is, g = dy.data[i] * gamma.data[ch];
                    dx.data[i] = is / c * (c * g - sg - xh * sgx);
                }
            }
        return new D[] {dx, dg, db};
    }
}
