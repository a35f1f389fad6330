package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * linear over cat(a, b) along channels (the Up block's Conv1×1 over [skip', low]) with no
 * concatenated tensor, every bit what concat + {@link CpuLinear} gave:
 * <ul>
 * <li>forward, y = W·[a; b] + bias: one GEMM whose packed B panels take their K rows from a (rows
 *     &lt; Ca) or b ({@link CpuGemm#gemmRowSplitB}), so packing, products and sums are the
 *     concatenation's;</li>
 * <li>dx = Wᵀ·dy split by rows: da = W[:, :Ca]ᵀ·dy and db = W[:, Ca:]ᵀ·dy written in place (no
 *     slice copies; a half not asked for is not computed). Rows of a GEMM are independent, and an
 *     edge tile gives each row the chain a full tile would ({@link CpuGemm#edgeTile}), so the split
 *     changes no row's bits wherever the micro-kernel's row panels fall;</li>
 * <li>dW = dy·[a; b]ᵀ split by columns: dW[:, :Ca] from a, dW[:, Ca:] from b (ldc = Ca + Cb), the
 *     bias gradient with the first; the long-K dot products group columns in fours from 0 and Ca,
 *     so for Ca a multiple of 4 every element takes the same path as before.</li>
 * </ul>
 * Saved per call: the concat in the forward, the concat and two slice copies in the backward
 * (each 2C·H·W floats per image; bench/NOTES.md, CPU round 9). Where CpuLinearBwd applies (the
 * parked dW accumulators fit L2: the two upper Up blocks) the backward is its one pass over pixel
 * blocks with X's rows from a and b ({@link CpuLinearBwd#backwardCat}): dy read once instead of
 * four times, the same bits.
 */
final class CpuLinearCat {
    private CpuLinearCat() {}

    /** Whether the backward takes CpuLinearBwd's one pass where it applies (false: tests compare the two). */
    static volatile boolean fusedBackward = true;

    static Tensor forward(CpuBackend be, Tensor a, Tensor b, Tensor w, Tensor bias) {
        OpShapes.linearCat(of(a), of(b), of(w), of(bias));
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), ci = ca + cb, p = a.spatial(2), co = w.dim(0);
        Tensor y = be.empty(n, co, a.dim(2), a.dim(3));
        float[] aa = a.array(), ba = b.array(), wa = w.array(), ya = y.array();
        float[] bias0 = bias == null ? null : bias.array();
        int biasOff = bias == null ? 0 : bias.off();
        for (int i = 0; i < n; i++)
            CpuGemm.gemmRowSplitB(co, p, ci, wa, w.off(), ci, 1, aa, a.off() + i * ca * p, ba, b.off() + i * cb * p, ca, p,
                    ya, y.off() + i * co * p, p, bias0, biasOff);
        return y;
    }

    /** {da, db, dw, dbias} (da / db / dbias null when not asked for). */
    static Tensor[] backward(CpuBackend be, Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                             boolean hasBias) {
        OpShapes.linearCatBackward(of(a), of(b), of(w), of(dy));
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), ci = ca + cb, p = a.spatial(2), co = w.dim(0);
        Tensor da = needDa ? be.empty(a.shape()) : null, db = needDb ? be.empty(b.shape()) : null;
        float[] wa = w.array(), dya = dy.array();
        int wo = w.off(), dyo = dy.off();
        if (fusedBackward && (needDa || needDb) && ca % 4 == 0 && CpuLinearBwd.applies(n, ci, co, p)) {
            Tensor dw = be.empty(w.shape()), dbias = hasBias ? be.empty(co) : null;
            CpuLinearBwd.backwardCat(n, ca, cb, co, p, a.array(), a.off(), b.array(), b.off(), wa, wo, dya, dyo,
                    da == null ? null : da.array(), da == null ? 0 : da.off(), db == null ? null : db.array(), db == null ? 0 : db.off(),
                    dw.array(), dw.off(), dbias == null ? null : dbias.array(), dbias == null ? 0 : dbias.off());
            return new Tensor[] {da, db, dw, dbias};
        }
        for (int i = 0; i < n; i++) {
            // dx rows r of Wᵀ·dy: A element (r, q) = w[q·ci + r]
            if (da != null)
                CpuGemm.gemm(ca, p, co, wa, wo, 1, ci, dya, dyo + i * co * p, p, 1, da.array(), da.off() + i * ca * p, p, false);
            if (db != null)
                CpuGemm.gemm(cb, p, co, wa, wo + ca, 1, ci, dya, dyo + i * co * p, p, 1, db.array(), db.off() + i * cb * p, p, false);
        }
        Tensor dw = be.empty(w.shape()), dbias = hasBias ? be.empty(co) : null;
        double[] s = hasBias ? new double[co] : null;
        float[] dwa = dw.array();
        int dwo = dw.off();
        for (int i = 0; i < n; i++) {
            CpuGemm.gemm(co, ca, p, dya, dyo + i * co * p, p, 1, a.array(), a.off() + i * ca * p, 1, p, dwa, dwo, ci, i > 0, s);
            CpuGemm.gemm(co, cb, p, dya, dyo + i * co * p, p, 1, b.array(), b.off() + i * cb * p, 1, p, dwa, dwo + ca, ci, i > 0);
        }
        if (dbias != null)
            for (int o = 0; o < co; o++) dbias.array()[dbias.off() + o] = (float) s[o];
        return new Tensor[] {da, db, dw, dbias};
    }
}
