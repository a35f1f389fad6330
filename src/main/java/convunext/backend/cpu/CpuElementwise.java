package convunext.backend.cpu;

import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Element-wise ops, threaded over contiguous chunks: exact GELU ({@link SimdOps}; the erfc fit
 * has relative error below 1.2e-7 everywhere, so Φ(x) stays accurate in the far negative tail),
 * add, and the gated skip attention (σ, tanh in double).
 */
final class CpuElementwise {
    private CpuElementwise() {}

    private static final int GRAIN = 1 << 14;
    private static final double INV_SQRT2 = 0.7071067811865476;

    /**
     * erfc(z), Chebyshev fit of Numerical Recipes (erfcc): fractional error &lt; 1.2e-7 for every z.
     * (Abramowitz–Stegun 7.1.26 has absolute error 1.5e-7, i.e. large relative error in the tail.)
     */
    static double erfc(double z) {
        double a = Math.abs(z), t = 1 / (1 + 0.5 * a);
        double r = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? r : 2 - r;
    }

    /** Φ(x), the standard normal CDF. */
    static double phi(double x) { return 0.5 * erfc(-x * INV_SQRT2); }

    static Tensor gelu(CpuBackend be, Tensor x) {
        Tensor y = be.empty(x.shape());
        float[] xa = x.array(), ya = y.array();
        int xo = x.off(), yo = y.off();
        CpuThreads.chunks(x.size(), GRAIN, 2, (a, b) -> SimdOps.BEST.gelu(xa, xo + a, ya, yo + a, b - a));
        return y;
    }

    static Tensor geluBackward(CpuBackend be, Tensor x, Tensor dy) {
        Shapes.same("geluBackward", x, dy);
        Tensor dx = be.empty(x.shape());
        float[] xa = x.array(), ga = dy.array(), da = dx.array();
        int xo = x.off(), go = dy.off(), dxo = dx.off();
        CpuThreads.chunks(x.size(), GRAIN, 2, (a, b) -> SimdOps.BEST.geluBackward(xa, xo + a, ga, go + a, da, dxo + a, b - a));
        return dx;
    }

    static Tensor add(CpuBackend be, Tensor a, Tensor b) {
        Shapes.same("add", a, b);
        Tensor y = be.empty(a.shape());
        float[] aa = a.array(), ba = b.array(), ya = y.array();
        int ao = a.off(), bo = b.off(), yo = y.off();
        CpuThreads.chunks(a.size(), GRAIN * 4, 2, (s, e) -> {
            for (int i = s; i < e; i++) ya[yo + i] = aa[ao + i] + ba[bo + i];
        });
        return y;
    }

    static double sigmoid(double v) { return 1 / (1 + Math.exp(-v)); }

    private static int checkGate(String op, Tensor g, Tensor s) {
        Shapes.rank(op, "g", g, 4);
        Shapes.rank(op, "s", s, 4);
        int c = s.dim(1);
        Shapes.shape(op, "g", g, s.dim(0), 3 * c, s.dim(2), s.dim(3));
        return c;
    }

    /** u = g[:, 0:C] + s. */
    static Tensor gateIn(CpuBackend be, Tensor g, Tensor s) {
        int c = checkGate("gateIn", g, s), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Tensor u = be.empty(s.shape());
        float[] ga = g.array(), sa = s.array(), ua = u.array();
        CpuThreads.chunks(n * blk, GRAIN * 4, 2, (a, b) -> {
            for (int idx = a; idx < b; idx++) {
                int i = idx / blk, r = idx % blk;
                ua[u.off() + idx] = ga[g.off() + i * 3 * blk + r] + sa[s.off() + idx];
            }
        });
        return u;
    }

    /** out = σ(a)⊙s + σ(g[:,C:2C])⊙tanh(g[:,2C:3C]). */
    static Tensor gateOut(CpuBackend be, Tensor a, Tensor s, Tensor g) {
        int c = checkGate("gateOut", g, s), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Shapes.same("gateOut", a, s);
        Tensor out = be.empty(s.shape());
        float[] aa = a.array(), sa = s.array(), ga = g.array(), oa = out.array();
        CpuThreads.chunks(n * blk, GRAIN, 2, (lo, hi) -> {
            for (int idx = lo; idx < hi; idx++) {
                int gi = g.off() + idx / blk * 3 * blk + idx % blk;
                double v = sigmoid(aa[a.off() + idx]) * sa[s.off() + idx]
                        + sigmoid(ga[gi + blk]) * Math.tanh(ga[gi + 2 * blk]);
                oa[out.off() + idx] = (float) v;
            }
        });
        return out;
    }

    /** {da, ds, dg} with dg[:,0:C] = 0. */
    static Tensor[] gateOutBackward(CpuBackend be, Tensor a, Tensor s, Tensor g, Tensor dout) {
        int c = checkGate("gateOutBackward", g, s), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Shapes.same("gateOutBackward", a, s);
        Shapes.same("gateOutBackward", dout, s);
        Tensor da = be.empty(s.shape()), ds = be.empty(s.shape()), dg = be.empty(g.shape());
        float[] aa = a.array(), sa = s.array(), ga = g.array(), oa = dout.array(), daa = da.array(), dsa = ds.array(), dga = dg.array();
        CpuThreads.chunks(n * blk, GRAIN, 2, (lo, hi) -> {
            for (int idx = lo; idx < hi; idx++) {
                int rel = idx / blk * 3 * blk + idx % blk, gi = g.off() + rel, di = dg.off() + rel;
                double d = oa[dout.off() + idx], sv = sa[s.off() + idx];
                double sgA = sigmoid(aa[a.off() + idx]), sg2 = sigmoid(ga[gi + blk]), th = Math.tanh(ga[gi + 2 * blk]);
                daa[da.off() + idx] = (float) (d * sv * sgA * (1 - sgA));
                dsa[ds.off() + idx] = (float) (d * sgA);
                dga[di] = 0f;
                dga[di + blk] = (float) (d * th * sg2 * (1 - sg2));
                dga[di + 2 * blk] = (float) (d * sg2 * (1 - th * th));
            }
        });
        return new Tensor[] {da, ds, dg};
    }

    /** dg = (du, 0, 0) over the three channel blocks. */
    static Tensor gateInBackward(CpuBackend be, Tensor du, int threeC) {
        Shapes.rank("gateInBackward", "du", du, 4);
        int n = du.dim(0), c = du.dim(1), p = du.spatial(2), blk = c * p;
        Shapes.require(threeC == 3 * c, "gateInBackward", "threeC " + threeC + " must be 3×C of du " + du.shapeString());
        Tensor dg = be.zeros(n, threeC, du.dim(2), du.dim(3));
        for (int i = 0; i < n; i++) System.arraycopy(du.array(), du.off() + i * blk, dg.array(), dg.off() + i * 3 * blk, blk);
        return dg;
    }
}
