package convunext.backend.cpu;

import static convunext.backend.OpShapes.of;

import convunext.backend.OpShapes;
import convunext.tensor.Tensor;

/**
 * Dense convolution. 1×1 stride 1 without padding ({@link OpShapes#conv2dIsLinear}) is
 * {@link CpuLinear}; everything else goes
 * through im2col + GEMM per image: col [Ci·k·k, Ho·Wo], Y = W·col. For the 2×2 stride-2
 * downsampling im2col is exactly a space-to-depth (no overlap, no padding), so it is as exact as
 * a direct loop. Backward: dW = Σ_n dY·colᵀ (long-K GEMM), dcol = Wᵀ·dY folded back by col2im,
 * which routes padded positions to their reflected source (or drops them for zero padding).
 * The 2×2 stride-2 case skips the column matrix where it can ({@link CpuConvS2D}: B packed
 * straight from x, dx scattered from the product's tiles; same bits); dW keeps im2col + the dot path.
 */
final class CpuConv2d {
    private CpuConv2d() {}

    record Geo(int n, int ci, int h, int w, int co, int k, int stride, int pad, boolean reflect, int ho, int wo) {
        int rows() { return ci * k * k; }

        int cols() { return ho * wo; }
    }

    /** The geometry of a call whose shapes {@link OpShapes#conv2d} accepted; y is [n, co, ho, wo]. */
    static Geo geometry(Tensor x, Tensor w, int[] y, int stride, int pad, boolean reflect) {
        return new Geo(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), stride, pad, reflect, y[2], y[3]);
    }

    static Tensor forward(CpuBackend be, Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        int[] ys = OpShapes.conv2d(of(x), of(w), of(b), stride, pad, reflect);
        Geo g = geometry(x, w, ys, stride, pad, reflect);
        if (CpuEmptyShapes.any(g.n, g.ci, g.co)) return CpuEmptyShapes.forward(be, ys, b);
        Tensor y = be.empty(g.n, g.co, g.ho, g.wo);
        float[] bias = b == null ? null : b.array();
        int bo = b == null ? 0 : b.off();
        if (OpShapes.conv2dIsLinear(w.shape(), stride, pad)) {
            CpuLinear.forward(g.n, g.ci, g.co, g.cols(), x.array(), x.off(), w.array(), w.off(), bias, bo, y.array(), y.off());
            return y;
        }
        int rows = g.rows(), cols = g.cols();
        if (implicit(g)) {   // no column matrix: B's panels gathered from x (same bits, see CpuConvS2D)
            CpuGemm.PackedA wp = CpuGemm.pack(g.co, rows, w.array(), w.off(), rows, 1);
            CpuConvS2D.Geo sg = s2d(g);
            for (int i = 0; i < g.n; i++)
                CpuConvS2D.forward(sg, x.array(), x.off() + i * g.ci * g.h * g.w, wp, bias, bo, y.array(), y.off() + i * g.co * cols);
            return y;
        }
        // The column matrix a block of output pixels at a time, each block's columns in a per-thread
        // scratch that stays in L2 while the GEMM reads it: the whole matrix (147 rows × H·W for the
        // stem, 38 MiB per 256² image) went to memory and back. Blocks are multiples of the GEMM's
        // tile width, so every column falls in a full tile or the image's ragged end as before, and
        // the scratch's short rows let the GEMM read B in place: the same products in the same
        // order, the bits of the whole-matrix path (CpuConv2dTest).
        CpuGemm.PackedA wp = CpuGemm.pack(g.co, rows, w.array(), w.off(), rows, 1);
        int bc = blockCols(rows), blocks = (cols + bc - 1) / bc;
        float[] xa = x.array(), ya = y.array();
        for (int i = 0; i < g.n; i++) {
            int xo = x.off() + i * g.ci * g.h * g.w, yo = y.off() + i * g.co * cols;
            CpuThreads.chunks(blocks, 1, 2, (b0, b1) -> {
                float[] sc = SCRATCH.get(rows * bc);
                for (int blk = b0; blk < b1; blk++) {
                    int j0 = blk * bc, j1 = Math.min(cols, j0 + bc);
                    im2colRange(g, xa, xo, j0, j1, sc, bc);
                    CpuGemm.gemm(wp, j1 - j0, sc, 0, bc, 1, ya, yo + j0, cols, false, bias, bo, null);
                }
            });
        }
        return y;
    }

    static Tensor[] backward(CpuBackend be, Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                             boolean needDx, boolean hasBias) {
        OpShapes.conv2dBackward(of(x), of(w), of(dy), stride, pad, reflect);
        Geo g = geometry(x, w, dy.shape(), stride, pad, reflect);
        if (CpuEmptyShapes.any(g.n, g.ci, g.co)) return CpuEmptyShapes.backward(be, x.shape(), w.shape(), dy, needDx, hasBias);
        Tensor dx = needDx ? be.empty(x.shape()) : null;
        Tensor dw = be.empty(w.shape());
        Tensor db = hasBias ? be.empty(g.co) : null;
        if (OpShapes.conv2dIsLinear(w.shape(), stride, pad)) {
            CpuLinear.backward(g.n, g.ci, g.co, g.cols(), x.array(), x.off(), w.array(), w.off(), dy.array(), dy.off(),
                    dx == null ? null : dx.array(), dx == null ? 0 : dx.off(), dw.array(), dw.off(),
                    db == null ? null : db.array(), db == null ? 0 : db.off());
            return new Tensor[] {dx, dw, db};
        }
        int rows = g.rows(), cols = g.cols(), plane = g.ci * g.h * g.w;
        boolean fused = needDx && implicit(g) && CpuConvS2D.fusedDx(g.co);   // dx scattered from Wᵀ·dY's tiles
        CpuGemm.PackedA wt = needDx ? CpuGemm.pack(rows, g.co, w.array(), w.off(), 1, rows) : null;   // Wᵀ
        if ((!needDx || fused) && cols >= CpuGemm.dotMinK() && blockedWeightGrad) {
            // dW through column blocks in cache (the same bits), then dx straight from dY's tiles
            weightGradBlocked(be, g, x, dy, dw, db, hasBias);
            if (fused) {
                for (int i = 0; i < g.n; i++)
                    CpuConvS2D.backwardDx(s2d(g), wt, dy.array(), dy.off() + i * g.co * cols, dx.array(), dx.off() + i * plane);
            }
            return new Tensor[] {dx, dw, db};
        }
        Tensor colT = be.empty(rows * cols), dcolT = needDx && !fused ? be.empty(rows * cols) : null;
        float[] col = colT.array(), dcol = dcolT != null ? dcolT.array() : null;
        double[] s = hasBias ? new double[g.co] : null;   // db, summed by the dW GEMM (see CpuLinear)
        for (int i = 0; i < g.n; i++) {
            int dyi = dy.off() + i * g.co * cols;
            im2col(g, x.array(), x.off() + i * plane, col);
            CpuGemm.gemm(g.co, rows, cols, dy.array(), dyi, cols, 1, col, 0, 1, cols, dw.array(), dw.off(), rows, i > 0, s);
            if (fused) {
                CpuConvS2D.backwardDx(s2d(g), wt, dy.array(), dyi, dx.array(), dx.off() + i * plane);
            } else if (needDx) {
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

    /** Whether dW goes through column blocks where it can (false: the whole column matrix, for tests and A/B runs). */
    static volatile boolean blockedWeightGrad = true;

    /**
     * dW (and db) through column blocks aligned to
     * the GEMM dot path's K blocks: each call sees whole K blocks of the image's pixels in the same
     * order (the last call takes the remainder with the block before it, so no call drops below the
     * dot path's minimum K), accumulating into dW as the whole-matrix call did: the same bits, with
     * the column matrix in an L3-sized scratch instead of written to memory and read back.
     *
     * <p>One region for the whole op: dW's columns (the column matrix's rows) are cut as CpuGemm
     * cuts the dot path's N (whole 4-column panels, the ragged end last), and each thread builds its
     * own rows of every block and multiplies them, so its GEMM reads rows from its own cache. A dot
     * element's value depends only on its K blocks, not on where its panel falls, so these are the
     * bits of the one-call-per-block loop at any thread count. That loop built each block's rows on
     * one thread (rows split over the pool, each core read the other's: slower, round 11) and forked
     * the GEMM per block: 9.6 ms for the stem at 2×256² on two threads, of which 1.8 the serial copy
     * (bench/NOTES.md, CPU round 23). Used where dx is not wanted (the stem: its input is the image)
     * or comes from dY's tiles without the column matrix (the 2×2 downsampling, whose rows are
     * de-interleaved here per block instead of written whole and read back: 0.92–0.96× its
     * backward at levels 0–2).
     */
    private static Tensor[] weightGradBlocked(CpuBackend be, Geo g, Tensor x, Tensor dy, Tensor dw, Tensor db, boolean hasBias) {
        int rows = g.rows(), cols = g.cols(), kb = CpuGemm.dotKc(), plane = g.ci * g.h * g.w, span = Math.min(cols, 2 * kb);
        float[] xa = x.array(), dya = dy.array(), dwa = dw.array();
        double[] s = hasBias ? new double[g.co] : null;
        int panels = (rows + 3) / 4, t = Math.max(1, Math.min(CpuThreads.threads(), panels));
        CpuThreads.parallelFor(t, task -> {
            int r0 = Math.min(rows, panels * task / t * 4), r1 = task == t - 1 ? rows : Math.min(rows, panels * (task + 1) / t * 4);
            if (r0 >= r1) return;
            float[] sc = SCRATCH.get((r1 - r0) * span);
            for (int i = 0; i < g.n; i++) {
                int xo = x.off() + i * plane, dyi = dy.off() + i * g.co * cols;
                for (int p0 = 0; p0 < cols; ) {
                    int p1 = cols - p0 < 2 * kb ? cols : p0 + kb, ld = p1 - p0;
                    im2colRange(g, xa, xo, p0, p1, sc, ld, r0, r1);
                    // db's row sums with the first part only (as CpuGemm's dot path sums them where j0 = 0)
                    CpuGemm.gemm(g.co, r1 - r0, ld, dya, dyi + p0, cols, 1, sc, 0, 1, ld, dwa, dw.off() + r0, rows,
                            i > 0 || p0 > 0, r0 == 0 ? s : null);
                    p0 = p1;
                }
            }
        });
        if (hasBias)
            for (int o = 0; o < g.co; o++) db.array()[db.off() + o] = (float) s[o];
        return new Tensor[] {null, dw, db};
    }

    /** Source index of padded coordinate i (may be out of range for zero padding: returns -1). */
    private static int src(int i, int size, boolean reflect) {
        if (i >= 0 && i < size) return i;
        if (!reflect) return -1;
        return i < 0 ? -i : 2 * (size - 1) - i;
    }

    /** k = stride, no padding (the 2×2 stride-2 downsampling): patches tile the input, no overlap. */
    private static boolean spaceToDepth(Geo g) { return g.k == g.stride && g.pad == 0; }

    /** 2×2 stride 2 through {@link CpuConvS2D} (its scatter takes a tile's rows k at a time: k must divide MR). */
    private static boolean implicit(Geo g) { return spaceToDepth(g) && g.k == 2; }

    private static CpuConvS2D.Geo s2d(Geo g) { return new CpuConvS2D.Geo(g.ci, g.h, g.w, g.k, g.ho, g.wo); }

    private static final CpuScratch SCRATCH = new CpuScratch();

    /** Output pixels per column block: ≈ 512 KiB of scratch, a multiple of the GEMM's tile width, at most 4096. */
    static int blockCols(int rows) {
        int nr = CpuGemm.nr();
        return Math.max(nr, Math.min(4096, (1 << 17) / Math.max(1, rows)) / nr * nr);
    }

    /**
     * Columns [j0, j1) of the column matrix (output pixels j = oy·Wo + ox) into dst, row r at
     * dst[r·ld …]: {@link #im2col}'s values, one output row's segment at a time.
     */
    static void im2colRange(Geo g, float[] x, int xo, int j0, int j1, float[] dst, int ld) {
        im2colRange(g, x, xo, j0, j1, dst, ld, 0, g.rows());
    }

    /** As {@link #im2colRange(Geo, float[], int, int, int, float[], int)}, rows [r0, r1) of the matrix only, row r at dst[(r − r0)·ld …]. */
    static void im2colRange(Geo g, float[] x, int xo, int j0, int j1, float[] dst, int ld, int r0, int r1) {
        int k = g.k;
        if (implicit(g) && r0 % 2 == 0 && r1 % 2 == 0) {   // 2×2 stride 2: rows (c, ky, 0) and (c, ky, 1) de-interleaved from one source row
            for (int r = r0; r < r1; r += 2) {
                int c = r / 4, ky = r / 2 % 2;
                for (int oy = j0 / g.wo; oy * g.wo < j1; oy++) {
                    int a = Math.max(j0, oy * g.wo) - oy * g.wo, b = Math.min(j1, (oy + 1) * g.wo) - oy * g.wo;
                    int d = (r - r0) * ld + oy * g.wo + a - j0;
                    CpuConvS2D.DEINTERLEAVE.run(x, xo + (c * g.h + 2 * oy + ky) * g.w + 2 * a, dst, d, d + ld, b - a);
                }
            }
            return;
        }
        for (int r = r0; r < r1; r++) {
            int c = r / (k * k), ky = r / k % k, kx = r % k;
            // Output columns whose source column is inside the row and contiguous (stride 1).
            int lo = 0, hi = 0;
            if (g.stride == 1) {
                lo = Math.max(0, Math.min(g.wo, g.pad - kx));
                hi = Math.max(lo, Math.min(g.wo, g.w + g.pad - kx));
            }
            for (int oy = j0 / g.wo; oy * g.wo < j1; oy++) {
                int a = Math.max(j0, oy * g.wo) - oy * g.wo, b = Math.min(j1, (oy + 1) * g.wo) - oy * g.wo;
                int d = (r - r0) * ld + oy * g.wo + a - j0;
                int sy = src(oy * g.stride + ky - g.pad, g.h, g.reflect);
                if (sy < 0) {
                    java.util.Arrays.fill(dst, d, d + b - a, 0f);
                    continue;
                }
                int s = xo + (c * g.h + sy) * g.w;
                int m0 = Math.max(a, lo), m1 = Math.max(m0, Math.min(b, hi));
                for (int ox = a; ox < Math.min(b, m0); ox++) dst[d + ox - a] = gather(g, x, s, ox, kx);
                if (m1 > m0) System.arraycopy(x, s + m0 + kx - g.pad, dst, d + m0 - a, m1 - m0);
                for (int ox = Math.max(a, m1); ox < b; ox++) dst[d + ox - a] = gather(g, x, s, ox, kx);
            }
        }
    }

    /** x at output column ox, kernel column kx of source row s (0 outside a zero-padded row). */
    private static float gather(Geo g, float[] x, int s, int ox, int kx) {
        int sx = src(ox * g.stride + kx - g.pad, g.w, g.reflect);
        return sx < 0 ? 0f : x[s + sx];
    }

    /** col[(c·k + ky)·k + kx][oy·Wo + ox] = xpad[c][oy·s + ky − p][ox·s + kx − p]; threaded over rows. */
    static void im2col(Geo g, float[] x, int xo, float[] col) {
        int k = g.k, cols = g.cols();
        if (spaceToDepth(g)) {   // plain strided copies, one source row of x at a time
            CpuThreads.chunks(g.ci * k, 4, 2, (r0, r1) -> {
                for (int r = r0; r < r1; r++)   // r = c·k + ky
                    for (int oy = 0; oy < g.ho; oy++) {
                        int s = xo + (r / k * g.h + oy * k + r % k) * g.w, d = r * k * cols + oy * g.wo;
                        if (k == 2) {   // one pass over the source row, de-interleaved into both kx rows
                            CpuConvS2D.DEINTERLEAVE.run(x, s, col, d, d + cols, g.wo);
                            continue;
                        }
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
