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
    static void statistics(Tensor x, Tensor gamma, Tensor runMean, Tensor runVar, float momentum, float eps,
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
     * gelu(BN(x))), {out, mean, invstd, slope (gelu'(pre), pre the GELU's input; null unless
     * keepPre)}. Per channel the statistics, then per step of {@link #STEP} floats BN's affine into
     * slope's place (else out), res added, GELU into out while the step is in L1: the operations of
     * batchnormTrain then addGelu (or gelu), each element's value independent of where it falls in a
     * vector, so the same bits, without BN's output written to memory and read back (the interface's
     * default composition did). In training GELU and its slope come from one
     * {@link SimdOps#geluWithGrad} (out has gelu's bits), and the slope is kept in place of pre, so
     * the backward multiplies (d = slope·dout, the bits of geluBackward(pre, dout)) instead of
     * evaluating GELU' again: the same bytes saved, one transcendental pass a block fewer.
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
                        if (keepPre) {   // pre in slope's place, then gelu(pre) into out and gelu'(pre) over it
                            if (ra != null) CpuAdd.add(ra, ro + e, da, dOff + e, da, dOff + e, len);
                            ops.geluWithGrad(da, dOff + e, oa, oo + e, da, dOff + e, len);
                        } else if (ra != null) CpuAddGelu.step(ra, ro + e, da, dOff + e, da, dOff + e, oa, oo + e, len, ops);
                        else ops.gelu(da, dOff + e, oa, oo + e, len);
                    }
            }
        });
        return new Tensor[] {out, mean, invstd, pre};
    }

    /** GELU's slope gelu'(pre), the form batchnormAddGelu keeps pre in (geluWithGrad's values: geluBackward's with dy = 1). */
    static Tensor geluSlope(CpuBackend be, Tensor pre) {
        Tensor s = be.empty(pre.shape()), y = be.empty(pre.shape());
        float[] pa = pre.array(), sa = s.array(), ya = y.array();
        int po = pre.off(), so = s.off(), yo = y.off();
        CpuThreads.chunks(pre.size(), 1 << 14, 2, (lo, hi) -> ops.geluWithGrad(pa, po + lo, ya, yo + lo, sa, so + lo, hi - lo));
        be.release(y);
        return s;
    }

    /** y = (x − m)·a + b over channel ch. */
    static void affine(float[] x, int xo, float[] y, int yo, int n, int c, int p, int ch, float m, float a, float b) {
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
        return batchnormBackwardInto(be, x, dy, gamma, mean, invstd, null, null, null);
    }

    /**
     * BatchNorm's backward adding into held gradients (each may be null): a held dx gets each plane
     * added as it is made, from this thread's one-plane scratch (the interface's default wrote dx
     * fresh and added it in a second pass); dγ, dβ added as they are rounded. Same bits: held +
     * fresh per element as the default's add. Returns {dx, dγ, dβ}, the held tensor where one was given.
     */
    static Tensor[] batchnormBackwardInto(CpuBackend be, Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd,
                                          Tensor dxInto, Tensor dgInto, Tensor dbInto) {
        OpShapes.batchnormBackward(of(x), of(dy), of(gamma), of(mean), of(invstd));
        int c = x.dim(1), p = x.spatial(2);
        Tensor[] g = heldOrFresh(be, "batchnormBackward", x, dxInto, dgInto, dbInto);
        Tensor dx = g[0], dg = g[1], db = g[2];
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            float[] tmp = dxInto != null ? DX_PLANE.get(p) : null;
            for (int ch = c0; ch < c1; ch++)
                channelBackward(x, dy.array(), dy.off() + ch * p, c * p, gamma, mean, invstd, ch, dx.array(), dx.off(), dxInto != null,
                        tmp, dg.array(), dg.off(), dgInto != null, db.array(), db.off(), dbInto != null);
        });
        return new Tensor[] {dx, dg, db};
    }

    /**
     * {dx, dγ, dβ}: each the held gradient where one is given (its shape checked: x's, [C], [C]),
     * else a fresh tensor. Checked before any work, so a refused call leaves every held gradient as it was.
     */
    private static Tensor[] heldOrFresh(CpuBackend be, String op, Tensor x, Tensor dxInto, Tensor dgInto, Tensor dbInto) {
        if (dxInto != null) Shapes.same(op, x, dxInto);
        Tensor[] aff = heldOrFreshAffine(be, op, x.dim(1), dgInto, dbInto);   // checks dγ's and dβ's shapes before it makes any
        return new Tensor[] {dxInto != null ? dxInto : be.empty(x.shape()), aff[0], aff[1]};
    }

    /** {dγ, dβ}: each the held tensor where one is given, else fresh (c floats). */
    static Tensor[] heldOrFreshAffine(CpuBackend be, String op, int c, Tensor dgInto, Tensor dbInto) {
        if (dgInto != null) Shapes.shape(op, "dgamma", dgInto, c);
        if (dbInto != null) Shapes.shape(op, "dbeta", dbInto, c);
        return new Tensor[] {dgInto != null ? dgInto : be.empty(c), dbInto != null ? dbInto : be.empty(c)};
    }

    /** Per thread: batchnormAddGeluBackwardInto's d planes of a channel, and a fresh dx plane to add into a held one. */
    private static final CpuScratch D_PLANES = new CpuScratch(), DX_PLANE = new CpuScratch();

    /**
     * The backward of {@link #batchnormAddGelu}, adding into held gradients (each may be null):
     * d = slope·dout (slope = gelu'(pre), as the forward keeps it), which is the residual's gradient (added into dres, else returned fresh) and
     * BN's dy; then BN's backward into dx, dγ, dβ. Per channel, d is made plane by plane (into this
     * thread's scratch when dres is held, n planes: in L2 at level 1 and below, in L3 at level 0),
     * added into dres there, and both BN passes read it from there. The interface's default wrote d
     * to memory, read it in BN's two passes and once more to add it into dres, and wrote dx fresh to
     * add it into a held dx in another pass. Same bits: d is the product {@link SimdOps#geluBackward}
     * ends with, of the slope geluWithGrad gives (the same operations), BN's sums and map over the same
     * planes in the same order ({@link #channelBackward}), held + fresh per element as the default's
     * add (IEEE addition is commutative, so the order of the two terms does not matter).
     * Returns {dres or fresh d, dx, dγ, dβ}, each the held tensor where one was given.
     */
    static Tensor[] batchnormAddGeluBackwardInto(CpuBackend be, Tensor x, Tensor dout, Tensor slope, Tensor gamma, Tensor mean,
                                                 Tensor invstd, Tensor dresInto, Tensor dxInto, Tensor dgInto, Tensor dbInto) {
        OpShapes.batchnormBackward(of(x), of(dout), of(gamma), of(mean), of(invstd));
        Shapes.same("batchnormAddGeluBackward", x, slope);
        if (dresInto != null) Shapes.same("batchnormAddGeluBackward", x, dresInto);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor[] g = heldOrFresh(be, "batchnormAddGeluBackward", x, dxInto, dgInto, dbInto);
        Tensor d = dresInto != null ? dresInto : be.empty(x.shape()), dx = g[0], dg = g[1], db = g[2];
        float[] pa = slope.array(), ga = dout.array(), da = d.array();
        int po = slope.off(), go = dout.off(), dOff = d.off();
        CpuThreads.chunks(c, 1, 2, (c0, c1) -> {
            float[] planes = dresInto != null ? D_PLANES.get(n * p) : null, tmp = dxInto != null ? DX_PLANE.get(p) : null;
            for (int ch = c0; ch < c1; ch++) {
                // d's plane i: in the scratch (then added into dres) when dres is held, else in the fresh d
                float[] dArr = planes != null ? planes : da;
                int dBase = planes != null ? 0 : dOff + ch * p, dStep = planes != null ? p : c * p;
                for (int i = 0; i < n; i++) {
                    int o = (i * c + ch) * p, e = dBase + i * dStep;
                    ops.mul(pa, po + o, ga, go + o, dArr, e, p);
                    if (planes != null) CpuAdd.add(da, dOff + o, planes, e, da, dOff + o, p);
                }
                channelBackward(x, dArr, dBase, dStep, gamma, mean, invstd, ch, dx.array(), dx.off(), dxInto != null, tmp,
                        dg.array(), dg.off(), dgInto != null, db.array(), db.off(), dbInto != null);
            }
        });
        return new Tensor[] {d, dx, dg, db};
    }

    /**
     * BN's backward over channel ch with dy's plane i at dy[dyBase + i·dyStep]: the sums, dγ and dβ
     * ({@link #channelCoefficients}), then dx into dx's planes (x's NCHW layout from dxOff), or, when
     * addDx, each plane made in tmp and added there.
     */
    private static void channelBackward(Tensor x, float[] dy, int dyBase, int dyStep, Tensor gamma, Tensor mean, Tensor invstd,
                                        int ch, float[] dx, int dxOff, boolean addDx, float[] tmp, float[] dg, int dgo, boolean addG,
                                        float[] db, int dbo, boolean addB) {
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        float[] xa = x.array(), k = new float[3];
        int xo = x.off();
        float m = mean.array()[mean.off() + ch];
        channelCoefficients(x, dy, dyBase, dyStep, gamma, mean, invstd, ch, dg, dgo, addG, db, dbo, addB, k, 0);
        float k1 = k[0], k2 = k[1], k3 = k[2];
        for (int i = 0; i < n; i++) {
            int o = (i * c + ch) * p;
            if (!addDx) {
                ops.bnBackwardApply(xa, xo + o, dy, dyBase + i * dyStep, dx, dxOff + o, p, m, k1, k2, k3);
                continue;
            }
            ops.bnBackwardApply(xa, xo + o, dy, dyBase + i * dyStep, tmp, 0, p, m, k1, k2, k3);
            CpuAdd.add(dx, dxOff + o, tmp, 0, dx, dxOff + o, p);
        }
    }

    /**
     * BN backward's sums over channel ch (dy's plane i at dy[dyBase + i·dyStep]): Σdy and
     * Σdy·(x−μ) in double, plane by plane in image order; dγ, dβ rounded to float (added into the
     * held value when addG / addB); and k[ko…ko+2] = {k1, k2, k3}, dx's coefficients for
     * {@link SimdOps#bnBackwardApply}: dx = γ·inv·(dy − mean(dy) − (x−μ)·inv²·mean(dy·(x−μ))).
     */
    static void channelCoefficients(Tensor x, float[] dy, int dyBase, int dyStep, Tensor gamma, Tensor mean, Tensor invstd, int ch,
                                    float[] dg, int dgo, boolean addG, float[] db, int dbo, boolean addB, float[] k, int ko) {
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        long count = (long) n * p;
        float[] xa = x.array();
        int xo = x.off();
        float m = mean.array()[mean.off() + ch];
        double inv = invstd.array()[invstd.off() + ch], gm = gamma.array()[gamma.off() + ch];
        double[] acc = new double[2];
        for (int i = 0; i < n; i++) ops.bnGradSums(dy, dyBase + i * dyStep, xa, xo + (i * c + ch) * p, p, m, acc);
        double sdy = acc[0], sdyx = acc[1];
        float vg = (float) (sdyx * inv), vb = (float) sdy;
        dg[dgo + ch] = addG ? dg[dgo + ch] + vg : vg;
        db[dbo + ch] = addB ? db[dbo + ch] + vb : vb;
        k[ko] = (float) (gm * inv);
        k[ko + 1] = (float) (-gm * inv * inv * inv * sdyx / count);
        k[ko + 2] = (float) (-gm * inv * sdy / count);
    }
}
