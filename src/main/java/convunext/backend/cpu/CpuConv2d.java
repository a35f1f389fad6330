package convunext.backend.cpu;

import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Dense convolution. 1×1 stride 1 without padding is {@link CpuLinear}; everything else goes
 * through im2col + GEMM per image: col [Ci·k·k, Ho·Wo], Y = W·col. For the 2×2 stride-2
 * downsampling im2col is exactly a space-to-depth (no overlap, no padding), so it is as exact as
 * a direct loop. Backward: dW = Σ_n dY·colᵀ (long-K GEMM), dcol = Wᵀ·dY folded back by col2im,
 * which routes padded positions to their reflected source (or drops them for zero padding).
 */
final class CpuConv2d {
    private CpuConv2d() {}

    private record Geo(int n, int ci, int h, int w, int co, int k, int stride, int pad, boolean reflect, int ho, int wo) {
        int rows() { return ci * k * k; }

        int cols() { return ho * wo; }
    }

    private static Geo geometry(String op, Tensor x, Tensor w, int stride, int pad, boolean reflect) {
        Shapes.rank(op, "x", x, 4);
        Shapes.rank(op, "w", w, 4);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), k = w.dim(2);
        Shapes.require(w.dim(1) == ci && w.dim(3) == k, op,
                "w must be [Co," + ci + ",k,k] for x " + x.shapeString() + ", got " + w.shapeString());
        Shapes.require(stride >= 1 && pad >= 0, op, "stride " + stride + " and pad " + pad + " invalid");
        Shapes.require(!reflect || (pad < h && pad < wd), op, "reflect padding " + pad + " needs pad < H,W of " + x.shapeString());
        int ho = (h + 2 * pad - k) / stride + 1, wo = (wd + 2 * pad - k) / stride + 1;
        Shapes.require(h + 2 * pad >= k && wd + 2 * pad >= k, op, "kernel " + k + " larger than padded input " + x.shapeString());
        return new Geo(n, ci, h, wd, co, k, stride, pad, reflect, ho, wo);
    }

    private static boolean pointwise(Geo g) { return g.k == 1 && g.stride == 1 && g.pad == 0; }

    static Tensor forward(CpuBackend be, Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        Geo g = geometry("conv2d", x, w, stride, pad, reflect);
        if (b != null) Shapes.shape("conv2d", "b", b, g.co);
        Tensor y = be.empty(g.n, g.co, g.ho, g.wo);
        float[] bias = b == null ? null : b.array();
        int bo = b == null ? 0 : b.off();
        if (pointwise(g)) {
            CpuLinear.forward(g.n, g.ci, g.co, g.cols(), x.array(), x.off(), w.array(), w.off(), bias, bo, y.array(), y.off());
            return y;
        }
        int rows = g.rows(), cols = g.cols();
        // Scratch from the backend's pool: a fresh 16–40 MiB array per call cost its zeroing and a
        // humongous allocation for G1 every time.
        Tensor colT = be.empty(rows * cols);
        float[] col = colT.array();
        CpuGemm.PackedA wp = CpuGemm.pack(g.co, rows, w.array(), w.off(), rows, 1);
        for (int i = 0; i < g.n; i++) {
            im2col(g, x.array(), x.off() + i * g.ci * g.h * g.w, col);
            CpuGemm.gemm(wp, cols, col, 0, cols, 1, y.array(), y.off() + i * g.co * cols, cols, false, bias, bo, null);
        }
        be.release(colT);
        return y;
    }

    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                             boolean needDx, boolean hasBias) {
        Geo g = geometry("conv2dBackward", x, w, stride, pad, reflect);
        Shapes.shape("conv2dBackward", "dy", dy, g.n, g.co, g.ho, g.wo);
        Tensor dx = needDx ? be.empty(x.shape()) : null;
        Tensor dw = be.empty(w.shape());
        Tensor db = hasBias ? be.empty(g.co) : null;
        if (pointwise(g)) {
            CpuLinear.backward(g.n, g.ci, g.co, g.cols(), x.array(), x.off(), w.array(), w.off(), dy.array(), dy.off(),
                    dx == null ? null : dx.array(), dx == null ? 0 : dx.off(), dw.array(), dw.off(),
                    db == null ? null : db.array(), db == null ? 0 : db.off());
            return new Tensor[] {dx, dw, db};
        }
        int rows = g.rows(), cols = g.cols(), plane = g.ci * g.h * g.w;
        Tensor colT = be.empty(rows * cols), dcolT = needDx ? be.empty(rows * cols) : null;
        float[] col = colT.array(), dcol = needDx ? dcolT.array() : null;
        CpuGemm.PackedA wt = needDx ? CpuGemm.pack(rows, g.co, w.array(), w.off(), 1, rows) : null;   // Wᵀ
        double[] s = hasBias ? new double[g.co] : null;   // db, summed by the dW GEMM (see CpuLinear)
        for (int i = 0; i < g.n; i++) {
            int dyi = dy.off() + i * g.co * cols;
            im2col(g, x.array(), x.off() + i * plane, col);
            CpuGemm.gemm(g.co, rows, cols, dy.array(), dyi, cols, 1, col, 0, 1, cols, dw.array(), dw.off(), rows, i > 0, s);
            if (needDx) {
                CpuGemm.gemm(wt, cols, dy.array(), dyi, cols, 1, dcol, 0, cols, false, null, 0, null);
                col2im(g, dcol, dx.array(), dx.off() + i * plane);
            }
        }
        be.release(colT);
        if (dcolT != null) be.release(dcolT);
        if (hasBias)
            for (int o = 0; o < g.co; o++) db.array()[db.off() + o] = (float) s[o];
        return new Tensor[] {dx, dw, db};
    }

    /** Source index of padded coordinate i (may be out of range for zero padding: returns -1). */
    private static int src(int i, int size, boolean reflect) {
        if (i >= 0 && i < size) return i;
        if (!reflect) return -1;
        return i < 0 ? -i : 2 * (size - 1) - i;
    }

    /** k = stride, no padding (the 2×2 stride-2 downsampling): patches tile the input, no overlap. */
    private static boolean spaceToDepth(Geo g) { return g.k == g.stride && g.pad == 0; }

    /** col[(c·k + ky)·k + kx][oy·Wo + ox] = xpad[c][oy·s + ky − p][ox·s + kx − p]; threaded over rows. */
    static void im2col(Geo g, float[] x, int xo, float[] col) {
        int k = g.k, cols = g.cols();
        if (spaceToDepth(g)) {   // plain strided copies, one source row of x at a time
            CpuThreads.chunks(g.ci * k, 4, 2, (r0, r1) -> {
                for (int r = r0; r < r1; r++)   // r = c·k + ky
                    for (int oy = 0; oy < g.ho; oy++) {
                        int s = xo + (r / k * g.h + oy * k + r % k) * g.w, d = r * k * cols + oy * g.wo;
                        for (int kx = 0; kx < k; kx++, d += cols)
                            for (int ox = 0; ox < g.wo; ox++) col[d + ox] = x[s + ox * k + kx];
                    }
            });
            return;
        }
        CpuThreads.chunks(g.rows(), 4, 2, (r0, r1) -> {
            int[] map = new int[g.wo];
            for (int r = r0; r < r1; r++) {
                int c = r / (k * k), ky = r / k % k, kx = r % k;
                for (int ox = 0; ox < g.wo; ox++) map[ox] = src(ox * g.stride + kx - g.pad, g.w, g.reflect);
                // Range of ox whose source column is inside the row and contiguous (stride 1).
                int lo = 0, hi = g.wo;
                if (g.stride == 1) {
                    lo = Math.max(0, Math.min(g.wo, g.pad - kx));
                    hi = Math.max(lo, Math.min(g.wo, g.w + g.pad - kx));
                }
                for (int oy = 0; oy < g.ho; oy++) {
                    int d = r * cols + oy * g.wo;
                    int sy = src(oy * g.stride + ky - g.pad, g.h, g.reflect);
                    if (sy < 0) {
                        java.util.Arrays.fill(col, d, d + g.wo, 0f);
                        continue;
                    }
                    int s = xo + (c * g.h + sy) * g.w;
                    if (g.stride == 1) {
                        for (int ox = 0; ox < lo; ox++) col[d + ox] = map[ox] < 0 ? 0f : x[s + map[ox]];
                        System.arraycopy(x, s + lo + kx - g.pad, col, d + lo, hi - lo);
                        for (int ox = hi; ox < g.wo; ox++) col[d + ox] = map[ox] < 0 ? 0f : x[s + map[ox]];
                    } else {
                        for (int ox = 0; ox < g.wo; ox++) col[d + ox] = map[ox] < 0 ? 0f : x[s + map[ox]];
                    }
                }
            }
        });
    }

    /** Adjoint of im2col: dx[c] = Σ over (ky,kx,oy,ox) landing on each source pixel; threaded over c. */
    static void col2im(Geo g, float[] dcol, float[] dx, int dxo) {
        int k = g.k, cols = g.cols();
        if (spaceToDepth(g)) {   // every covered pixel from exactly one column entry: a strided copy back
            boolean edges = g.ho * k != g.h || g.wo * k != g.w;   // uncovered last rows/columns get 0
            CpuThreads.chunks(g.ci, 1, 2, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    int base = dxo + c * g.h * g.w;
                    if (edges) java.util.Arrays.fill(dx, base, base + g.h * g.w, 0f);
                    for (int ky = 0; ky < k; ky++)
                        for (int oy = 0; oy < g.ho; oy++) {
                            int s = base + (oy * k + ky) * g.w, d = ((c * k + ky) * k) * cols + oy * g.wo;
                            for (int kx = 0; kx < k; kx++, d += cols)
                                for (int ox = 0; ox < g.wo; ox++) dx[s + ox * k + kx] = dcol[d + ox];
                        }
                }
            });
            return;
        }
        CpuThreads.chunks(g.ci, 1, 2, (c0, c1) -> {
            int[] map = new int[g.wo];
            for (int c = c0; c < c1; c++) {
                int base = dxo + c * g.h * g.w;
                java.util.Arrays.fill(dx, base, base + g.h * g.w, 0f);
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int r = (c * k + ky) * k + kx;
                        for (int ox = 0; ox < g.wo; ox++) map[ox] = src(ox * g.stride + kx - g.pad, g.w, g.reflect);
                        for (int oy = 0; oy < g.ho; oy++) {
                            int sy = src(oy * g.stride + ky - g.pad, g.h, g.reflect);
                            if (sy < 0) continue;
                            int d = r * cols + oy * g.wo, s = base + sy * g.w;
                            for (int ox = 0; ox < g.wo; ox++) if (map[ox] >= 0) dx[s + map[ox]] += dcol[d + ox];
                        }
                    }
            }
        });
    }
}
