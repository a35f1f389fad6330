package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * nn.Linear over the channel axis of NCHW: one GEMM per image (M=Co, K=Ci, N=H·W). Backward:
 * dX = Wᵀ·dY per image, dW = Σ_n dY·Xᵀ (long-K dot-product GEMM), db = Σ dY in double, summed by the
 * dW GEMM as it streams dY (a separate pass re-read all of dY from memory: ≈ 14% of pwconv1's backward).
 * Where it applies, {@link CpuLinearBwd} does all three in one pass over pixel blocks (dY read from
 * memory once, same bits).
 * The raw-array entry points are shared with the 1×1 case of {@link CpuConv2d}.
 */
final class CpuLinear {
    private CpuLinear() {}

    /** Whether at most {@link CpuLinearNarrow#MAX_CO} outputs take CpuLinearNarrow (false: the GEMM; benchmarks compare). */
    static volatile boolean narrow = true;

    static Tensor forward(CpuBackend be, Tensor x, Tensor w, Tensor b) {
        OpShapes.linear(of(x), of(w), of(b));
        int n = x.dim(0), ci = x.dim(1), p = x.spatial(2);
        int co = w.dim(0);
        if (CpuEmptyShapes.any(n, ci, co, p)) return CpuEmptyShapes.forward(be, new int[]{n, co, x.dim(2), x.dim(3)}, b);
        Tensor y = be.empty(n, co, x.dim(2), x.dim(3));
        forward(n, ci, co, p, x.array(), x.off(), w.array(), w.off(), b == null ? null : b.array(),
                b == null ? 0 : b.off(), y.array(), y.off());
        return y;
    }

    static void forward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo,
                        float[] b, int bo, float[] y, int yo) {
        if (narrow && CpuLinearNarrow.applies(co)) {   // the forward only: in the backward CpuLinearBwd's one pass won (dX here + dW apart: 1.08×)
            CpuLinearNarrow.forward(n, ci, co, p, x, xo, w, wo, b, bo, y, yo);
            return;
        }
        for (int i = 0; i < n; i++)
            CpuGemm.gemm(co, p, ci, w, wo, ci, 1, x, xo + i * ci * p, p, 1, y, yo + i * co * p, p, false, b, bo);
    }

    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        OpShapes.linearBackward(of(x), of(w), of(dy));
        int n = x.dim(0), ci = x.dim(1), p = x.spatial(2);
        int co = w.dim(0);
        if (CpuEmptyShapes.any(n, ci, co, p)) return CpuEmptyShapes.backward(be, x.shape(), w.shape(), dy, needDx, hasBias);
        Tensor dx = needDx ? be.empty(x.shape()) : null;
        Tensor dw = be.empty(w.shape());
        Tensor db = hasBias ? be.empty(co) : null;
        backward(n, ci, co, p, x.array(), x.off(), w.array(), w.off(), dy.array(), dy.off(),
                dx == null ? null : dx.array(), dx == null ? 0 : dx.off(), dw.array(), dw.off(),
                db == null ? null : db.array(), db == null ? 0 : db.off());
        return new Tensor[] {dx, dw, db};
    }

    static void backward(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, float[] dy, int dyo,
                         float[] dx, int dxo, float[] dw, int dwo, float[] db, int dbo) {
        if (dx != null && CpuLinearBwd.applies(n, ci, co, p))
            CpuLinearBwd.backward(n, ci, co, p, x, xo, w, wo, dy, dyo, dx, dxo, dw, dwo, db, dbo);
        else
            backwardUnfused(n, ci, co, p, x, xo, w, wo, dy, dyo, dx, dxo, dw, dwo, db, dbo);
    }

    /** dX by the packed GEMM per image, then dW (and db) by {@link #weightGrad}: the same bits as the fused path. */
    static void backwardUnfused(int n, int ci, int co, int p, float[] x, int xo, float[] w, int wo, float[] dy, int dyo,
                                float[] dx, int dxo, float[] dw, int dwo, float[] db, int dbo) {
        if (dx != null)
            for (int i = 0; i < n; i++)
                CpuGemm.gemm(ci, p, co, w, wo, 1, ci, dy, dyo + i * co * p, p, 1, dx, dxo + i * ci * p, p, false);
        weightGrad(n, ci, co, p, x, xo, dy, dyo, dw, dwo, db, dbo);
    }

    /** dW = Σ_n dY·Xᵀ (long-K dot products over the pixels) and, unless db is null, db = Σ dY in double. */
    static void weightGrad(int n, int ci, int co, int p, float[] x, int xo, float[] dy, int dyo, float[] dw, int dwo,
                           float[] db, int dbo) {
        double[] s = db == null ? null : new double[co];
        for (int i = 0; i < n; i++)
            CpuGemm.gemm(co, ci, p, dy, dyo + i * co * p, p, 1, x, xo + i * ci * p, 1, p, dw, dwo, ci, i > 0, s);
        if (db != null)
            for (int o = 0; o < co; o++) db[dbo + o] = (float) s[o];
    }
}
