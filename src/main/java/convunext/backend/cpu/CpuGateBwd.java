package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * The Up block's gate chain backward ({@link convunext.backend.Backend#gateChainTrainBackward})
 * in one pass over pixel blocks where its three weight gradients' parked accumulators are few
 * enough (levels 0 and 1 at base_c 32). Per block of nb pixels of an image, every intermediate
 * gradient in a per-thread scratch that stays in cache:
 * <pre>
 *   dS2                     C rows   gy's block, copied
 *   dS  = W2ᵀ·dS2           C rows   (linear2's dX)
 *   da, ds, dg[C:3C]                 gateOut's backward from dS, a, skip, g
 *   du  = W1ᵀ·da            C rows   (linear1's dX); dg[0:C] = 0 + du, skip's gradient (held +) ds + du
 *   dlow = Wgᵀ·dg                    (the gate linear's dX)
 * </pre>
 * and dWg, dgb from dg, dW1, db1 from da, dW2, db2 from dS2, all three as dot spans over the same
 * blocks ({@link CpuLinearBwd#backward} with the gate linear first and the other two as its
 * {@link CpuLinearBwd.Second}s reading their G rows from this scratch). One by one the five ops
 * moved ≈ 26 C-planes of the image through memory (gateOut's backward alone reads five and writes
 * five, dg's first C zero-filled and then overwritten); here gy, s, a, the skip, g's last 2C, u
 * and low are read and dlow and the skip's gradient written.
 *
 * <p>Same bits as the ops one by one: each dX is the same GEMM on the same rows (values do not
 * depend on where B's rows lie), gateOut's backward is SimdOps' per element, dg[0:C] is 0 + du
 * (gateIn's add into gateOut's zeros: a −0 becomes +0 as there), the skip's gradient takes ds
 * then du in that order, and the weight gradients are CpuLinearBwd's chains per (image, K block)
 * in item order, as each linear's own pass makes them. Blocks depend on the shape only.
 */
final class CpuGateBwd {
    private CpuGateBwd() {}

    /** Whether the chain's backward runs in one pass where it applies (false: the ops one by one; tests and benchmarks compare). */
    static volatile boolean fused = true;
    /**
     * Most bytes of the three weight gradients' parked accumulators per thread (4·lanes·5C² bytes
     * at 16 lanes: 320 KiB at C = 32, 1.25 MiB at C = 64, 5 MiB at C = 128). Measured against the
     * ops one by one (31 alternated pairs): 0.840 at C = 32 (256²), 0.882 at C = 64 (128²), 1.184
     * at C = 128 (64²): levels 0 and 1 at base_c 32 (bench/NOTES.md, CPU round 26).
     */
    static final long MAX_PARKED_BYTES = 3 << 19;

    /** Per thread: the block's dS2, da, dS and ds rows, {@link CpuLinearBwd#LD} apart. */
    private static final AlignedScratch ROWS = new AlignedScratch();

    /** Whether {@link #backward} runs the chain (else the backend's composition). */
    static boolean applies(Tensor skip, boolean needLow) {
        if (!fused || !needLow || skip.shape().length != 4) return false;
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2);
        return CpuGemm.dotSpans && CpuLinearBwd.applies(n, c, 3 * c, p, Long.MAX_VALUE)
                && CpuLinearBwd.parkedBytes(5 * c, c) <= MAX_PARKED_BYTES;
    }

    static Tensor[] backward(CpuBackend be, Tensor low, Tensor skip, Tensor g, Tensor u, Tensor a, Tensor s, Tensor gw,
                             Tensor w1, Tensor w2, Tensor gy, boolean hasGb, boolean hasB1, boolean hasB2, boolean needSkip,
                             Tensor[] into, SimdOps ops) {
        OpShapes.gateChainTrainBackward(of(low), of(skip), of(g), of(u), of(a), of(s), of(gw), of(w1), of(w2), of(gy), into);
        Tensor skipInto = into[1];
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2), ld = CpuLinearBwd.LD;
        Tensor dlow = be.empty(low.shape());
        Tensor ds = !needSkip ? null : skipInto != null ? skipInto : be.empty(skip.shape());
        boolean held = skipInto != null;
        Tensor dgw = be.empty(gw.shape()), dw1 = be.empty(w1.shape()), dw2 = be.empty(w2.shape());
        Tensor dgb = hasGb ? be.empty(3 * c) : null, db1 = hasB1 ? be.empty(c) : null, db2 = hasB2 ? be.empty(c) : null;
        // W2ᵀ and W1ᵀ [c × c] as the dX GEMMs' left operands: element (i, k) at w[k·c + i]
        CpuGemm.PackedA a2t = CpuGemm.pack(c, c, w2.array(), w2.off(), 1, c), a1t = CpuGemm.pack(c, c, w1.array(), w1.off(), 1, c);
        float[] gya = gy.array(), aa = a.array(), ska = skip.array(), ga = g.array(), dsa = ds == null ? null : ds.array();
        CpuLinearBwd.DyBlock dg = (img, p0, len, blk, off, bld) -> {
            int z = AlignedScratch.at(), x = img * c * p + p0, gx = g.off() + img * 3 * c * p + p0;
            int dS2 = z, da = z + c * ld, dS = z + 2 * c * ld, dsk = z + 3 * c * ld;
            float[] sc = ROWS.get(4 * c * ld);
            for (int r = 0; r < c; r++) System.arraycopy(gya, gy.off() + x + r * p, sc, dS2 + r * ld, len);
            CpuGemm.gemm(a2t, len, sc, dS2, ld, 1, sc, dS, ld, false, null, 0, null);
            for (int r = 0; r < c; r++)
                ops.gateOutBackward(aa, a.off() + x + r * p, ska, skip.off() + x + r * p, ga, gx + (c + r) * p, gx + (2 * c + r) * p,
                        sc, dS + r * ld, sc, da + r * ld, sc, dsk + r * ld, blk, off + (c + r) * bld, off + (2 * c + r) * bld, len);
            CpuGemm.gemm(a1t, len, sc, da, ld, 1, blk, off, bld, false, null, 0, null);   // du, in dg's first C rows
            for (int r = 0; r < c; r++) {
                int du = off + r * bld;
                if (dsa != null) {   // the skip's gradient: (held +) ds, then + du, as gateOut's and gateIn's backwards add them
                    int at = ds.off() + x + r * p;
                    if (held) {
                        ops.add(dsa, at, sc, dsk + r * ld, dsa, at, len);
                        ops.add(dsa, at, blk, du, dsa, at, len);
                    } else ops.add(sc, dsk + r * ld, blk, du, dsa, at, len);
                }
                for (int q = du; q < du + len; q++) blk[q] += 0f;   // dg[0:C] = 0 + du (gateIn's add into gateOut's zeros)
            }
        };
        CpuLinearBwd.Second lin2 = new CpuLinearBwd.Second(c, c, null, 0, s.array(), s.off(), dw2.array(), dw2.off(),
                db2 == null ? null : db2.array(), db2 == null ? 0 : db2.off(), ROWS, 0);
        CpuLinearBwd.Second lin1 = new CpuLinearBwd.Second(c, c, null, 0, u.array(), u.off(), dw1.array(), dw1.off(),
                db1 == null ? null : db1.array(), db1 == null ? 0 : db1.off(), ROWS, c);
        CpuLinearBwd.backward(n, c, 3 * c, p, low.array(), low.off(), gw.array(), gw.off(), dg, dlow.array(), dlow.off(),
                dgw.array(), dgw.off(), dgb == null ? null : dgb.array(), dgb == null ? 0 : dgb.off(), lin2, lin1);
        // as linearBackwardInto: each fresh gradient added into its held one (dlow's, the weights')
        Tensor[] r = {dlow, ds, dgw, dgb, dw1, db1, dw2, db2};
        for (int i = 0; i < r.length; i++)
            if (i != 1 && into[i] != null && r[i] != null) {
                be.addInPlace(into[i], r[i]);
                be.release(r[i]);
                r[i] = into[i];
            }
        return r;
    }
}
