package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * The Up block's chain backward ({@link convunext.backend.Backend#gateChainCatBackward}: the gate
 * chain and the 1×1 conv over [s2; low]) in one pass over pixel blocks where its four weight
 * gradients' parked accumulators are few enough (levels 0 and 1 at base_c 32). Per block of nb
 * pixels of an image, every intermediate gradient in a per-thread scratch that stays in cache:
 * <pre>
 *   dY                       Co rows  gy's block, copied
 *   dS2 = Wc[:, :C]ᵀ·dY      C rows   (the 1×1 conv's dX, first part)
 *   dLc = Wc[:, C:]ᵀ·dY      C rows   (its second part: low's)
 *   dS  = W2ᵀ·dS2            C rows   (linear2's dX)
 *   da, ds, dg[C:3C]                  gateOut's backward from dS, a, skip, g
 *   du  = W1ᵀ·da             C rows   (linear1's dX); dg[0:C] = 0 + du, the skip's gradient (held +) ds + du
 *   dlow = (held +) dLc + Wgᵀ·dg      (the gate linear's dX)
 * </pre>
 * and dWc, dbc from dY and [s2; low], dW2, db2 from dS2 and s, dW1, db1 from da and u, dWg, dgb
 * from dg and low, all four as dot spans over the same blocks ({@link CpuLinearBwd#backward} with
 * the gate linear first and the other three as its {@link CpuLinearBwd.Second}s reading their G
 * rows from this scratch). One by one the six ops moved ≈ 32 C-planes of the image through memory
 * (gateOut's backward alone reads five and writes five; dS2 and dlow written and read back);
 * here gy, s2, s, a, the skip, g's last 2C, u and low are read and dlow and the skip's gradient
 * written.
 *
 * <p>Same bits as the ops one by one: each dX is the same GEMM on the same rows (values do not
 * depend on where B's rows lie), gateOut's backward is SimdOps' per element, dg[0:C] is 0 + du
 * (gateIn's add into gateOut's zeros: a −0 becomes +0 as there), low's gradient and the skip's
 * take their terms in the ops' order, and the weight gradients are CpuLinearBwd's chains per
 * (image, K block) in item order, as each linear's own pass makes them. Blocks depend on the shape
 * only.
 */
final class CpuGateBwd {
    private CpuGateBwd() {}

    /** Whether the chain's backward runs in one pass where it applies (false: the ops one by one; tests and benchmarks compare). */
    static volatile boolean fused = true;
    /**
     * Most bytes of the four weight gradients' parked accumulators per thread (4·lanes·(5C² +
     * 2C·Co) bytes at 16 lanes: 448 KiB at level 0 (C = Co = 32), 1.5 MiB at level 1 (C 64, Co
     * 32), 6.3 MiB at level 2). Against the ops one by one (alternated pairs): the gate chain alone
     * 0.840–0.884 at C = 32 (256²), 0.882–0.893 at C = 64 (128²), 1.184 at C = 128 (64²); with the
     * 1×1 conv 0.834 and 0.893 at levels 0 and 1 (bench/NOTES.md, CPU round 26).
     */
    static final long MAX_PARKED_BYTES = 2 << 20;

    /** Per thread: the block's dY, dS2, da, dS, ds, dLc and fresh dlow rows, {@link CpuLinearBwd#LD} apart. */
    private static final AlignedScratch ROWS = new AlignedScratch();

    /** Whether {@link #backward} runs the chain (else the backend's composition). */
    static boolean applies(Tensor skip, Tensor wc, boolean needLow) {
        if (!fused || !needLow || skip.shape().length != 4) return false;
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2), co = wc.dim(0);
        return CpuGemm.dotSpans && co % 4 == 0 && CpuLinearBwd.applies(n, c, 3 * c, p, Long.MAX_VALUE)
                && CpuLinearBwd.parkedBytes(5 * c + 2 * co, c) <= MAX_PARKED_BYTES;
    }

    static Tensor[] backward(CpuBackend be, Tensor low, Tensor skip, Tensor[] saved, Tensor[] w, Tensor gy, boolean[] bias,
                             boolean needSkip, Tensor[] into, SimdOps ops) {
        OpShapes.gateChainCatBackward(of(low), of(skip), saved, w, of(gy), bias, into);
        Tensor g = saved[0], u = saved[1], a = saved[2], s = saved[3], s2 = saved[4], gw = w[0], w1 = w[1], w2 = w[2], wc = w[3];
        int n = skip.dim(0), c = skip.dim(1), p = skip.spatial(2), co = wc.dim(0), ld = CpuLinearBwd.LD;
        Tensor lowInto = into[0], skipInto = into[1];
        Tensor dlow = lowInto != null ? lowInto : be.empty(low.shape());
        Tensor ds = !needSkip ? null : skipInto != null ? skipInto : be.empty(skip.shape());
        Tensor[] r = new Tensor[10];
        int[][] shapes = {null, null, gw.shape(), {3 * c}, w1.shape(), {c}, w2.shape(), {c}, wc.shape(), {co}};
        for (int i = 2; i < 10; i++) r[i] = i % 2 == 1 && !bias[(i - 2) / 2] ? null : be.empty(shapes[i]);
        // the dX GEMMs' left operands: Wc[:, :C]ᵀ, Wc[:, C:]ᵀ [c × co], W2ᵀ, W1ᵀ [c × c], Wgᵀ [c × 3c] (element (i, k) at w[k·ci + i])
        CpuGemm.PackedA wcA = CpuGemm.pack(c, co, wc.array(), wc.off(), 1, 2 * c), wcB = CpuGemm.pack(c, co, wc.array(), wc.off() + c, 1, 2 * c);
        CpuGemm.PackedA a2t = CpuGemm.pack(c, c, w2.array(), w2.off(), 1, c), a1t = CpuGemm.pack(c, c, w1.array(), w1.off(), 1, c);
        CpuGemm.PackedA agt = CpuGemm.pack(c, 3 * c, gw.array(), gw.off(), 1, c);
        float[] gya = gy.array(), aa = a.array(), ska = skip.array(), ga = g.array(), dla = dlow.array(), dsa = ds == null ? null : ds.array();
        boolean heldLow = lowInto != null, heldSkip = skipInto != null;
        int dY = 0, dS2 = co, da = co + c, dS = co + 2 * c, dsk = co + 3 * c, dLc = co + 4 * c, dLw = co + 5 * c;   // rows
        CpuLinearBwd.DyBlock dg = (img, p0, len, blk, off, bld) -> {
            int z = AlignedScratch.at(), x = img * c * p + p0, gx = g.off() + img * 3 * c * p + p0;
            float[] sc = ROWS.get((co + 6 * c) * ld);
            for (int r0 = 0; r0 < co; r0++) System.arraycopy(gya, gy.off() + img * co * p + p0 + r0 * p, sc, z + (dY + r0) * ld, len);
            CpuGemm.gemm(wcA, len, sc, z + dY * ld, ld, 1, sc, z + dS2 * ld, ld, false, null, 0, null);
            CpuGemm.gemm(wcB, len, sc, z + dY * ld, ld, 1, sc, z + dLc * ld, ld, false, null, 0, null);
            CpuGemm.gemm(a2t, len, sc, z + dS2 * ld, ld, 1, sc, z + dS * ld, ld, false, null, 0, null);
            for (int r0 = 0; r0 < c; r0++)
                ops.gateOutBackward(aa, a.off() + x + r0 * p, ska, skip.off() + x + r0 * p, ga, gx + (c + r0) * p, gx + (2 * c + r0) * p,
                        sc, z + (dS + r0) * ld, sc, z + (da + r0) * ld, sc, z + (dsk + r0) * ld, blk, off + (c + r0) * bld,
                        off + (2 * c + r0) * bld, len);
            CpuGemm.gemm(a1t, len, sc, z + da * ld, ld, 1, blk, off, bld, false, null, 0, null);   // du, in dg's first C rows
            for (int r0 = 0; r0 < c; r0++) {
                int du = off + r0 * bld;
                if (dsa != null) {   // the skip's gradient: (held +) ds, then + du, as gateOut's and gateIn's backwards add them
                    int at = ds.off() + x + r0 * p;
                    if (heldSkip) {
                        ops.add(dsa, at, sc, z + (dsk + r0) * ld, dsa, at, len);
                        ops.add(dsa, at, blk, du, dsa, at, len);
                    } else ops.add(sc, z + (dsk + r0) * ld, blk, du, dsa, at, len);
                }
                for (int q = du; q < du + len; q++) blk[q] += 0f;   // dg[0:C] = 0 + du (gateIn's add into gateOut's zeros)
            }
            // low's gradient: (held +) the 1×1 conv's part, then + the gate linear's (its dX GEMM here, not in the pass)
            CpuGemm.gemm(agt, len, blk, off, bld, 1, sc, z + dLw * ld, ld, false, null, 0, null);
            for (int r0 = 0; r0 < c; r0++) {
                int at = dlow.off() + x + r0 * p;
                if (heldLow) ops.add(dla, at, sc, z + (dLc + r0) * ld, dla, at, len);
                else System.arraycopy(sc, z + (dLc + r0) * ld, dla, at, len);
                ops.add(dla, at, sc, z + (dLw + r0) * ld, dla, at, len);
            }
        };
        CpuLinearBwd.Second cat = second(co, 2 * c, s2.array(), s2.off(), low.array(), low.off(), c, r[8], r[9], dY);
        CpuLinearBwd.Second lin2 = second(c, c, s.array(), s.off(), null, 0, c, r[6], r[7], dS2);
        CpuLinearBwd.Second lin1 = second(c, c, u.array(), u.off(), null, 0, c, r[4], r[5], da);
        CpuLinearBwd.backward(n, c, 3 * c, p, low.array(), low.off(), gw.array(), gw.off(), dg, null, 0,
                r[2].array(), r[2].off(), r[3] == null ? null : r[3].array(), r[3] == null ? 0 : r[3].off(), cat, lin2, lin1);
        // as linearBackwardInto: each fresh weight gradient added into its held one
        for (int i = 2; i < 10; i++)
            if (into[i] != null && r[i] != null) {
                be.addInPlace(into[i], r[i]);
                be.release(r[i]);
                r[i] = into[i];
            }
        r[0] = dlow;
        r[1] = ds;
        return r;
    }

    /** A weight gradient made in the pass: G's rows from the scratch at row0, H's rows [0, hCa) from h, the rest from h2. */
    private static CpuLinearBwd.Second second(int co, int ci, float[] h, int ho, float[] h2, int h2o, int hCa, Tensor dw, Tensor db,
                                              int row0) {
        return new CpuLinearBwd.Second(co, ci, null, 0, h, ho, h2, h2o, hCa, dw.array(), dw.off(), db == null ? null : db.array(),
                db == null ? 0 : db.off(), ROWS, row0);
    }
}
