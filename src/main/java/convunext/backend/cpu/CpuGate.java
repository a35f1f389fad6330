package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * The gated skip attention of each decoder stage (σ, tanh in float, {@link SimdOps}), threaded
 * over contiguous chunks cut at image boundaries. Every element's value is a function of its
 * inputs alone ({@link FloatMath}), so results do not depend on the thread count.
 */
final class CpuGate {
    private CpuGate() {}

    private static final int GRAIN = 1 << 14;

    /** u = g[:, 0:C] + s. */
    static Tensor gateIn(CpuBackend be, Tensor g, Tensor s) {
        OpShapes.gateIn(of(g), of(s));
        int c = s.dim(1), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Tensor u = be.empty(s.shape());
        float[] ga = g.array(), sa = s.array(), ua = u.array();
        int go = g.off(), so = s.off(), uo = u.off();
        CpuThreads.chunks(n * blk, GRAIN * 4, 2, (lo, hi) -> perImage(lo, hi, blk, (img, f, t) -> {
            int x = img * blk, gi = go + img * 3 * blk;
            for (int i = f; i < t; i++) ua[uo + x + i] = ga[gi + i] + sa[so + x + i];
        }));
        return u;
    }

    /**
     * Runs body(image, from, to) over [lo, hi) of the flat N·blk index, cut at image boundaries so
     * every piece is contiguous in the [N, C, H, W] tensors and in its channel block of g.
     */
    private static void perImage(int lo, int hi, int blk, ImageRange body) {
        while (lo < hi) {
            int img = lo / blk, end = Math.min(hi, (img + 1) * blk);
            body.run(img, lo - img * blk, end - img * blk);
            lo = end;
        }
    }

    @FunctionalInterface
    private interface ImageRange { void run(int img, int from, int to); }

    /** out = σ(a)⊙s + σ(g[:,C:2C])⊙tanh(g[:,2C:3C]) (vector σ and tanh in float, {@link SimdOps}). */
    static Tensor gateOut(CpuBackend be, Tensor a, Tensor s, Tensor g) {
        OpShapes.gateOut(of(a), of(s), of(g));
        int c = s.dim(1), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Tensor out = be.empty(s.shape());
        float[] aa = a.array(), sa = s.array(), ga = g.array(), oa = out.array();
        int ao = a.off(), so = s.off(), go = g.off(), oo = out.off();
        CpuThreads.chunks(n * blk, GRAIN, 2, (lo, hi) -> perImage(lo, hi, blk, (img, f, t) -> {
            int x = img * blk + f, gi = go + img * 3 * blk + f;
            SimdOps.BEST.gateOut(aa, ao + x, sa, so + x, ga, gi + blk, gi + 2 * blk, oa, oo + x, t - f);
        }));
        return out;
    }

    /** {da, ds, dg} with dg[:,0:C] = 0. */
    static Tensor[] gateOutBackward(CpuBackend be, Tensor a, Tensor s, Tensor g, Tensor dout) {
        OpShapes.gateOutBackward(of(a), of(s), of(g), of(dout));
        int c = s.dim(1), n = s.dim(0), p = s.spatial(2), blk = c * p;
        Tensor da = be.empty(s.shape()), ds = be.empty(s.shape()), dg = be.empty(g.shape());
        float[] aa = a.array(), sa = s.array(), ga = g.array(), oa = dout.array(), daa = da.array(), dsa = ds.array(), dga = dg.array();
        int ao = a.off(), so = s.off(), go = g.off(), doo = dout.off(), dao = da.off(), dso = ds.off(), dgo = dg.off();
        CpuThreads.chunks(n * blk, GRAIN, 2, (lo, hi) -> perImage(lo, hi, blk, (img, f, t) -> {
            int x = img * blk + f, rel = img * 3 * blk + f;
            java.util.Arrays.fill(dga, dgo + rel, dgo + rel + t - f, 0f);
            SimdOps.BEST.gateOutBackward(aa, ao + x, sa, so + x, ga, go + rel + blk, go + rel + 2 * blk, oa, doo + x,
                    daa, dao + x, dsa, dso + x, dga, dgo + rel + blk, dgo + rel + 2 * blk, t - f);
        }));
        return new Tensor[] {da, ds, dg};
    }

    /** dg = (du, 0, 0) over the three channel blocks. */
    static Tensor gateInBackward(CpuBackend be, Tensor du, int threeC) {
        return gateInBackwardInto(be, du, threeC, null, null);
    }

    /**
     * gateIn's backward in one pass over du: dgInto[:, 0:C] += du (its other channels untouched)
     * and dsInto += du (the skip's held gradient; null: none). Without dgInto, dg = (du, 0, 0) is
     * fresh, written once (not zero-filled, then copied over). The backend's default went through
     * a fresh zeroed 3C tensor added whole into dgInto: four 3C-sized passes where one C-sized
     * pass is needed. Each element's sum is the default's (dg + du, ds + du): the same values; only
     * an exact −0 in dgInto's channels C..3C−1 stays −0 (the default's "+ 0" made it +0).
     */
    static Tensor gateInBackwardInto(CpuBackend be, Tensor du, int threeC, Tensor dgInto, Tensor dsInto) {
        int[] shape = OpShapes.gateInBackward(of(du), threeC);
        if (dgInto != null) Shapes.shape("gateInBackward", "dg", dgInto, shape);
        if (dsInto != null) Shapes.same("gateInBackward", du, dsInto);
        int n = du.dim(0), blk = du.dim(1) * du.spatial(2);
        Tensor dg = dgInto != null ? dgInto : be.empty(shape);
        boolean fresh = dgInto == null;
        float[] ua = du.array(), ga = dg.array(), sa = dsInto == null ? null : dsInto.array();
        int uo = du.off(), go = dg.off(), so = dsInto == null ? 0 : dsInto.off();
        CpuThreads.chunks(n * blk, GRAIN * 4, 2, (lo, hi) -> perImage(lo, hi, blk, (img, f, t) -> {
            int x = img * blk, gi = go + img * 3 * blk;
            if (fresh) {
                System.arraycopy(ua, uo + x + f, ga, gi + f, t - f);
                java.util.Arrays.fill(ga, gi + blk + f, gi + blk + t, 0f);
                java.util.Arrays.fill(ga, gi + 2 * blk + f, gi + 2 * blk + t, 0f);
                if (sa != null) addInto(sa, so + x + f, ua, uo + x + f, t - f);
                return;
            }
            if (sa == null) addInto(ga, gi + f, ua, uo + x + f, t - f);
            else addInto2(ga, gi + f, sa, so + x + f, ua, uo + x + f, t - f);
        }));
        return dg;
    }

    /** dst[d + i] += src[so + i] for i &lt; n (a plain counted loop: C2 vectorises it). */
    private static void addInto(float[] dst, int d, float[] src, int so, int n) {
        for (int i = 0; i < n; i++) dst[d + i] += src[so + i];
    }

    /**
     * a[ao + i] += src[so + i] and b[bo + i] += src[so + i] for i &lt; n, src read once (measured
     * ≈ 15 % faster than two loops; cutting the two loops into L1-sized sub-blocks instead was
     * 1.6× slower than either: the hardware prefetchers want long streams).
     */
    private static void addInto2(float[] a, int ao, float[] b, int bo, float[] src, int so, int n) {
        for (int i = 0; i < n; i++) {
            float v = src[so + i];
            a[ao + i] += v;
            b[bo + i] += v;
        }
    }
}
