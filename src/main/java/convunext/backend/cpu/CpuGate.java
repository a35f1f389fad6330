package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * The gated skip attention of each decoder stage (σ, tanh in float, {@link SimdOps}), threaded
 * over contiguous chunks cut at image boundaries; and, at inference, the 1×1 chain around it per
 * block of pixels ({@link #chain}). Every element's value is a function of its
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
            CpuAdd.add(ga, gi + f, sa, so + x + f, ua, uo + x + f, t - f);
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
                if (sa != null) CpuAdd.add(sa, so + x + f, ua, uo + x + f, sa, so + x + f, t - f);
                return;
            }
            if (sa == null) CpuAdd.add(ga, gi + f, ua, uo + x + f, ga, gi + f, t - f);
            else addInto2(ga, gi + f, sa, so + x + f, ua, uo + x + f, t - f);
        }));
        return dg;
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

    // ------------------------------------------------------------------ the inference chain

    /** Channels up to which the chain runs fused (the widths measured; above, the default composition). */
    static final int CHAIN_MAX_C = 256;
    /** Floats of scratch per block (8C rows): 256 KiB, the block and the packed weights share L2. */
    private static final int CHAIN_SCRATCH_FLOATS = 1 << 16;
    private static final AlignedScratch CHAIN_SCRATCH = new AlignedScratch();   // rows from AlignedScratch.at(): aligned where known

    /** Whether {@link #chain} runs it (else the composition, which also reports a malformed call). */
    static boolean chainApplies(Tensor skip) { return skip != null && skip.shape().length == 4 && skip.dim(1) <= CHAIN_MAX_C; }

    /** Pixels per block: a multiple of the GEMM's tile width with 8C·block within the scratch. */
    static int chainBlockPixels(int c, int p) {
        int nr = CpuGemm.nr(), nb = Math.max(nr, CHAIN_SCRATCH_FLOATS / (8 * c) / nr * nr);
        return Math.min(nb, (p + nr - 1) / nr * nr);
    }

    /**
     * The Up block's 1×1 chain at inference ({@link convunext.backend.Backend#gateChain}) one block
     * of pixels at a time, every intermediate in a per-thread scratch that stays in cache:
     * <pre>
     *   G  = Wg·low + bg                   3C rows     (the gate's linear)
     *   U  = G[0:C] + skip                  C rows     (gateIn)
     *   A  = W1·U + b1                      C rows     (linear1)
     *   S  = σ(A)⊙skip + σ(G[C:2C])⊙tanh(G[2C:3C])    (gateOut)
     *   K  = [W2·S + b2 ; low]             2C rows     (linear2, then the low block copied under it)
     *   y  = Wc·K + bc                     Co rows     (the 1×1 conv over the concatenation)
     * </pre>
     * Without w2 (linear2 folded into Wc by InferenceModel) gateOut writes S straight into K's
     * first C rows.
     * Unfused, the six ops moved ≈ 19 C-planes of the image through memory; here low and skip are read
     * and y written (3 planes). Measured at the model's widths ({@link #chainApplies}: C ≤ 256, every
     * Up block at base_c 32): whole inference 0.94× the composition's time with all four fused, 0.96×
     * with levels 0–1 only (bench/NOTES.md, round 11); wider C keeps the composition, unmeasured.
     * Every element takes the unfused ops' operations in their order (the GEMMs' sums
     * over K in the same blocks, gateIn's add, SimdOps.gateOut), so the result has their bits, at any
     * thread count (blocks depend on the shape only).
     */
    static Tensor chain(CpuBackend be, Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2,
                        Tensor b2, Tensor wc, Tensor bc, SimdOps ops) {
        OpShapes.gateChain(of(low), of(skip), of(gw), of(gb), of(w1), of(b1), of(w2), of(b2), of(wc), of(bc));
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2), co = wc.dim(0);
        Tensor y = be.empty(n, co, skip.dim(2), skip.dim(3));
        CpuGemm.PackedA ag = CpuGemm.pack(3 * c, c, gw.array(), gw.off(), c, 1);
        CpuGemm.PackedA a1 = CpuGemm.pack(c, c, w1.array(), w1.off(), c, 1);
        CpuGemm.PackedA a2 = w2 == null ? null : CpuGemm.pack(c, c, w2.array(), w2.off(), c, 1);
        CpuGemm.PackedA ac = CpuGemm.pack(co, 2 * c, wc.array(), wc.off(), 2 * c, 1);
        float[] la = low.array(), sa = skip.array(), ya = y.array();
        float[] gba = gb == null ? null : gb.array(), b1a = b1 == null ? null : b1.array();
        float[] b2a = b2 == null ? null : b2.array(), bca = bc == null ? null : bc.array();
        int gbo = gb == null ? 0 : gb.off(), b1o = b1 == null ? 0 : b1.off(), b2o = b2 == null ? 0 : b2.off(), bco = bc == null ? 0 : bc.off();
        int nb = chainBlockPixels(c, p), blocks = (p + nb - 1) / nb;
        CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
            int ldMax = CpuScratch.rowStride(nb);
            float[] sc = CHAIN_SCRATCH.get(8 * c * ldMax);
            int z = AlignedScratch.at();
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, p0 = t % blocks * nb, len = Math.min(nb, p - p0), ld = CpuScratch.rowStride(len);
                // rows: G [0, 3C), U [3C, 4C), A [4C, 5C), S [5C, 6C), K [6C, 8C)
                int g0 = z, u0 = z + 3 * c * ld, a0 = z + 4 * c * ld, k0 = z + 6 * c * ld, s0 = a2 == null ? k0 : z + 5 * c * ld;
                int lb = low.off() + i * c * p + p0, sb = skip.off() + i * c * p + p0;
                CpuGemm.gemm(ag, len, la, lb, p, 1, sc, g0, ld, false, gba, gbo, null);
                for (int r = 0; r < c; r++) CpuAdd.add(sc, g0 + r * ld, sa, sb + r * p, sc, u0 + r * ld, len);
                CpuGemm.gemm(a1, len, sc, u0, ld, 1, sc, a0, ld, false, b1a, b1o, null);
                for (int r = 0; r < c; r++)
                    ops.gateOut(sc, a0 + r * ld, sa, sb + r * p, sc, g0 + (c + r) * ld, g0 + (2 * c + r) * ld, sc, s0 + r * ld, len);
                if (a2 != null) CpuGemm.gemm(a2, len, sc, s0, ld, 1, sc, k0, ld, false, b2a, b2o, null);
                for (int r = 0; r < c; r++) System.arraycopy(la, lb + r * p, sc, k0 + (c + r) * ld, len);
                CpuGemm.gemm(ac, len, sc, k0, ld, 1, ya, y.off() + i * co * p + p0, p, false, bca, bco, null);
            }
        });
        return y;
    }

    // ------------------------------------------------------------------ the training chain

    /**
     * Channels up to which the training chain runs per block (levels 0–2 at base_c 32); above, the
     * ops one by one. With the 1×1 conv, against the ops one by one (31 alternated pairs): 0.878 at
     * C = 32, 0.929 at 64, 0.942 at 128 (64², blocks of 96 pixels), 1.103 at 256 (32²: the weights
     * alone are 1.3 MiB, read again for every block) (bench/NOTES.md, CPU round 26).
     */
    static final int TRAIN_CHAIN_MAX_C = 128;

    /** Floats of the block's working set (9C rows: low, skip, g, u, a, s, s2; y's Co rows besides): 512 KiB, within L2. */
    private static final int TRAIN_CHAIN_FLOATS = 1 << 17;

    /** Whether the training chain runs per block where it applies (false: the ops one by one; benchmarks compare). */
    static volatile boolean trainChain = true;

    static boolean trainChainApplies(Tensor skip) { return trainChain && skip.shape().length == 4 && skip.dim(1) <= TRAIN_CHAIN_MAX_C; }

    /**
     * {@link convunext.backend.Backend#gateChainTrain} per block of pixels: for each block, g, u, a, s,
     * s2 and y are written into their tensors and the next op reads its block back from cache. One by
     * one, the ops read ≈ 11 C-planes of the image from memory (low; g's first C and skip; u; a, skip
     * and g's last 2C; s; s2 and low for the 1×1 conv); here low and skip. Same bits: every element
     * takes the ops' operations in their order (the GEMMs' sums over K in the same blocks, gateIn's
     * add, SimdOps.gateOut), as {@link #chain}; blocks depend on the shape only.
     */
    static Tensor[] chainTrain(CpuBackend be, Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2,
                               Tensor b2, Tensor wc, Tensor bc, SimdOps ops) {
        OpShapes.gateChainTrain(of(low), of(skip), of(gw), of(gb), of(w1), of(b1), of(w2), of(b2), of(wc), of(bc));
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2), co = wc == null ? 0 : wc.dim(0);
        int[] shape = skip.shape();
        Tensor g = be.empty(n, 3 * c, shape[2], shape[3]), u = be.empty(shape), a = be.empty(shape), s = be.empty(shape), s2 = be.empty(shape);
        Tensor y = wc == null ? null : be.empty(n, co, shape[2], shape[3]);
        CpuGemm.PackedA ag = CpuGemm.pack(3 * c, c, gw.array(), gw.off(), c, 1);
        CpuGemm.PackedA a1 = CpuGemm.pack(c, c, w1.array(), w1.off(), c, 1);
        CpuGemm.PackedA a2 = CpuGemm.pack(c, c, w2.array(), w2.off(), c, 1);
        float[] la = low.array(), sa = skip.array(), ga = g.array(), ua = u.array(), aa = a.array(), ssa = s.array(), s2a = s2.array();
        float[] gba = gb == null ? null : gb.array(), b1a = b1 == null ? null : b1.array(), b2a = b2 == null ? null : b2.array();
        float[] wca = wc == null ? null : wc.array(), bca = bc == null ? null : bc.array(), ya = y == null ? null : y.array();
        int gbo = gb == null ? 0 : gb.off(), b1o = b1 == null ? 0 : b1.off(), b2o = b2 == null ? 0 : b2.off(), bco = bc == null ? 0 : bc.off();
        int nr = CpuGemm.nr(), nb = Math.min(Math.max(nr, TRAIN_CHAIN_FLOATS / (9 * c) / nr * nr), (p + nr - 1) / nr * nr);
        int blocks = (p + nb - 1) / nb;
        CpuThreads.chunks(n * blocks, 1, 4, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int i = t / blocks, p0 = t % blocks * nb, len = Math.min(nb, p - p0);
                int x = i * c * p + p0, gx = g.off() + i * 3 * c * p + p0;
                CpuGemm.gemm(ag, len, la, low.off() + x, p, 1, ga, gx, p, false, gba, gbo, null);
                for (int r = 0; r < c; r++) CpuAdd.add(ga, gx + r * p, sa, skip.off() + x + r * p, ua, u.off() + x + r * p, len);
                CpuGemm.gemm(a1, len, ua, u.off() + x, p, 1, aa, a.off() + x, p, false, b1a, b1o, null);
                for (int r = 0; r < c; r++)
                    ops.gateOut(aa, a.off() + x + r * p, sa, skip.off() + x + r * p, ga, gx + (c + r) * p, gx + (2 * c + r) * p,
                            ssa, s.off() + x + r * p, len);
                CpuGemm.gemm(a2, len, ssa, s.off() + x, p, 1, s2a, s2.off() + x, p, false, b2a, b2o, null);
                // the 1×1 conv over [s2; low] (CpuLinearCat.forward's GEMM on this block's columns), both in cache
                if (wca != null)
                    CpuGemm.gemmRowSplitB(co, len, 2 * c, wca, wc.off(), 2 * c, 1, s2a, s2.off() + x, la, low.off() + x, c, p,
                            ya, y.off() + i * co * p + p0, p, bca, bco);
            }
        });
        return new Tensor[] {g, u, a, s, s2, y};
    }
}
