package convunext.backend.cuda.ops;

import convunext.backend.cuda.CublasGemm;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches gemm.cu: Linear over the channel axis (and 1x1 stride-1 unpadded convolutions, the
 * same GEMM): y[n] = W . x[n] + b per image, dx[n] = W^T . dy[n], dW = sum_n dy[n] . x[n]^T
 * (split over pixel chunks, then a fixed-order reduction), db = sum dy. When the backend has
 * cuBLAS ({@link CublasGemm}, a GPU with CUDA 12's libcublas), the three products run there
 * instead and the bias is added by elementwise.cu's bias_add_channels; db stays ours.
 *
 * <p>{@link #linearGelu} and {@link #linearBackwardDataGelu} are gemm.cu's kernels with the exact
 * GELU (or its derivative) in the epilogue, also when cuBLAS is present: the point is the pass
 * over the 4C-channel hidden tensor that they save, which a cuBLAS GEMM followed by gelu.cu would
 * spend. CudaBackend chooses between them and that composition
 * ({@code -Dconvunext.cuda.fuseGelu=false}).
 */
public final class LinearOps {
    private static final int BN = Kernels.GT_BN;
    private final Launcher k;
    private final CublasGemm blas;

    /** {@code blas}: cuBLAS for the products, or null for gemm.cu only. */
    public LinearOps(Launcher k, CublasGemm blas) {
        this.k = k;
        this.blas = blas;
    }

    /** Rows of C per block: the _bm32 kernels' GT_BM_SMALL when M fits them, else GT_BM. */
    static int bm(int m) { return m <= Kernels.GT_BM_SMALL ? Kernels.GT_BM_SMALL : Kernels.GT_BM; }

    /** gemm_tile.cuh's block: GT_THREADS threads. */
    static int[] tileBlock() { return new int[]{Kernels.GT_THREADS, 1, 1}; }

    private static boolean small(int m) { return bm(m) == Kernels.GT_BM_SMALL; }

    /** x [N,Ci,H,W]; w [Co,Ci] or, the same memory, a 1x1 conv weight [Co,Ci,1,1]. */
    private static void check(String op, Tensor x, Tensor w) { check(op, "x", x, w); }

    /** The same, for an input named {@code xName} in the messages. */
    private static void check(String op, String xName, Tensor x, Tensor w) {
        Shapes.rank(op, xName, x, 4);
        Shapes.require(w.rank() == 2 || (w.rank() == 4 && w.dim(2) == 1 && w.dim(3) == 1), op,
                "w must be [Co,Ci] or [Co,Ci,1,1], got " + w.shapeString());
        Shapes.require(w.dim(1) == x.dim(1), op, "w " + w.shapeString() + " does not match the channels of "
                + xName + " " + x.shapeString());
    }

    public Tensor linear(Tensor x, Tensor w, Tensor b) {
        String op = "linear";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0);
        if (b != null) Shapes.shape(op, "b", b, co);
        Tensor y = k.empty(n, co, h, wd);
        forward(op, x, w, b, y, n, co, ci, h * wd);
        return y;
    }

    /** y [N,M,P] = w [M,K] . x [N,K,P] + b. */
    void forward(String op, Tensor x, Tensor w, Tensor b, Tensor y, int n, int m, int kk, int p) {
        if ((long) n * m * p == 0) return;
        if (blas != null) {
            blas.forward(k.ptr(w), k.ptr(x), k.ptr(y), n, m, kk, p);
            if (b != null) {
                long total = (long) n * m * p;
                Kernels.bias_add_channels(k.at(op, new Tensor[]{y, b}, Launcher.grid1D(total), Launcher.block1D(), 0))
                        .y(k.ptr(y)).b(k.ptr(b)).C(m).P(p).n(total).launch();
            }
            return;
        }
        Kernels.Sink at = k.at(op, new Tensor[]{x, w, b}, new int[]{Launcher.ceilDiv(p, BN), Launcher.ceilDiv(m, bm(m)), n},
                tileBlock(), 0);
        (small(m) ? Kernels.gemm_forward_bm32(at) : Kernels.gemm_forward(at))
                .A(k.ptr(w)).B(k.ptr(x)).bias(k.ptrOrNull(b)).C(k.ptr(y))
                .M(m).N(p).K(kk).strideB((long) kk * p).strideC((long) m * p).launch();
    }

    /**
     * {h = gelu(w . x + b), pre = w . x + b (null unless keepPre)} in one kernel
     * (gemm_forward_gelu): pre is written only when kept, h never goes through memory as pre.
     */
    public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre) {
        String op = "linearGelu";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), p = h * wd;
        if (b != null) Shapes.shape(op, "b", b, co);
        Tensor out = k.empty(n, co, h, wd), pre = keepPre ? k.empty(n, co, h, wd) : null;
        if ((long) n * co * p > 0)
        {
            Kernels.Sink at = k.at(op, new Tensor[]{x, w, b},
                    new int[]{Launcher.ceilDiv(p, BN), Launcher.ceilDiv(co, bm(co)), n}, tileBlock(), 0);
            (small(co) ? Kernels.gemm_forward_gelu_bm32(at) : Kernels.gemm_forward_gelu(at))
                    .A(k.ptr(w)).B(k.ptr(x)).bias(k.ptrOrNull(b)).h(k.ptr(out)).pre(k.ptrOrNull(pre))
                    .M(co).N(p).K(ci).strideB((long) ci * p).strideC((long) co * p).launch();
        }
        return new Tensor[]{out, pre};
    }

    /**
     * dpre = (w^T . dy) * gelu'(pre) in one kernel (gemm_backward_data_gelu): w [Co,Ci] (or
     * [Co,Ci,1,1]), dy [N,Co,H,W], pre [N,Ci,H,W] -> dpre [N,Ci,H,W].
     */
    public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        String op = "linearBackwardDataGelu";
        check(op, "pre", pre, w);
        int n = pre.dim(0), ci = pre.dim(1), h = pre.dim(2), wd = pre.dim(3), co = w.dim(0), p = h * wd;
        Shapes.shape(op, "dy", dy, n, co, h, wd);
        Tensor dpre = k.empty(n, ci, h, wd);
        if ((long) n * ci * p == 0) return dpre;
        if (co == 0) { k.memsetZero(k.ptr(dpre), dpre.numel() * 4L); return dpre; }   // w^T . dy = 0
        Kernels.Sink at = k.at(op, new Tensor[]{w, dy, pre},
                new int[]{Launcher.ceilDiv(p, BN), Launcher.ceilDiv(ci, bm(ci)), n}, tileBlock(), 0);
        (small(ci) ? Kernels.gemm_backward_data_gelu_bm32(at) : Kernels.gemm_backward_data_gelu(at))
                .A(k.ptr(w)).B(k.ptr(dy)).pre(k.ptr(pre)).C(k.ptr(dpre))
                .M(ci).N(p).K(co).strideB((long) co * p).strideC((long) ci * p).launch();
        return dpre;
    }

    public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        String op = "linearBackward";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0);
        Shapes.shape(op, "dy", dy, n, co, h, wd);
        Tensor dx = needDx ? k.empty(n, ci, h, wd) : null;
        if (dx != null) backwardData(op, dy, w, dx, n, ci, co, h * wd);
        Tensor dw = k.empty(w.shape());   // [Co,Ci] or a 1x1 conv weight [Co,Ci,1,1]
        backwardWeight(op, dy, x, dw, n, co, ci, h * wd);
        Tensor db = null;
        if (hasBias) {
            db = k.empty(co);
            bias(op, dy, db, n, co, h * wd);
        }
        return new Tensor[]{dx, dw, db};
    }

    /** dx = w^T . dy alone, shaped like x [N,Ci,H,W] (the unfused half of linearBackwardDataGelu). */
    public Tensor linearBackwardData(Tensor w, Tensor dy, Tensor x) {
        String op = "linearBackwardData";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0);
        Shapes.shape(op, "dy", dy, n, co, h, wd);
        Tensor dx = k.empty(n, ci, h, wd);
        backwardData(op, dy, w, dx, n, ci, co, h * wd);
        return dx;
    }

    /** dx [N,M,P] = w^T . dy, w [K,M] (M = Ci, K = Co). */
    void backwardData(String op, Tensor dy, Tensor w, Tensor dx, int n, int m, int kk, int p) {
        if ((long) n * m * p == 0) return;
        if (kk == 0) { k.memsetZero(k.ptr(dx), dx.numel() * 4L); return; }
        if (blas != null) { blas.backwardData(k.ptr(w), k.ptr(dy), k.ptr(dx), n, m, kk, p); return; }
        Kernels.Sink at = k.at(op, new Tensor[]{dy, w, dx},
                new int[]{Launcher.ceilDiv(p, BN), Launcher.ceilDiv(m, bm(m)), n}, tileBlock(), 0);
        (small(m) ? Kernels.gemm_backward_data_bm32(at) : Kernels.gemm_backward_data(at))
                .A(k.ptr(w)).B(k.ptr(dy)).C(k.ptr(dx))
                .M(m).N(p).K(kk).strideB((long) kk * p).strideC((long) m * p).launch();
    }

    /** dw [M,Nc] = sum_n dy[n] (M x P) . x[n]^T (P x Nc). */
    void backwardWeight(String op, Tensor dy, Tensor x, Tensor dw, int n, int m, int nc, int p) {
        if ((long) m * nc == 0) return;
        if (blas != null) { blas.backwardWeight(k.ptr(dy), k.ptr(x), k.ptr(dw), n, m, nc, p); return; }
        int[] split = splitK(n, m, nc, p);
        int cpi = split[0], len = split[1], s = n * cpi;
        DeviceBuffer ws = k.workspace((long) s * m * nc);
        try {
            Tensor[] inv = {dy, x, dw};
            Kernels.Sink at = k.at(op, inv, new int[]{Launcher.ceilDiv(nc, BN), Launcher.ceilDiv(m, bm(m)), s},
                    tileBlock(), 0);
            (small(m) ? Kernels.gemm_backward_weight_part_bm32(at) : Kernels.gemm_backward_weight_part(at))
                    .A(k.ptr(dy)).B(k.ptr(x)).ws(ws.address()).M(m).N(nc).K(p)
                    .strideA((long) m * p).strideB((long) nc * p).cpi(cpi).L(len).launch();
            reduce(op, inv, ws, dw, (long) m * nc, s);
        } finally {
            k.free(ws);
        }
    }

    void reduce(String op, Tensor[] inv, DeviceBuffer ws, Tensor out, long mn, int s) {
        Kernels.gemm_backward_weight_reduce(k.at(op, inv, new int[]{Launcher.ceilDiv(mn, Launcher.THREADS), 1, 1},
                Launcher.block1D(), 0)).ws(ws.address()).out(k.ptr(out)).MN(mn).S(s).launch();
    }

    /**
     * Split of the long K (pixels) of a weight gradient: {chunks per image, chunk length}. Aims at
     * about 1024 blocks, chunks of at least 64 pixels (a multiple of the 16-deep K slice) and a
     * workspace of at most 16 M floats.
     */
    static int[] splitK(int n, int m, long nc, int p) {
        long tiles = (long) Launcher.ceilDiv(nc, BN) * Launcher.ceilDiv(m, bm(m));
        int want = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (Kernels.CU_REDUCE_TARGET_BLOCKS + tiles * n - 1) / (tiles * n)));
        int cpi = Math.max(1, Math.min(want, Launcher.ceilDiv(Math.max(p, 1), Kernels.CU_REDUCE_MIN_CHUNK)));
        long cap = Math.max(1, (16L << 20) / Math.max(1, (long) n * m * nc));
        cpi = (int) Math.max(1, Math.min(cpi, cap));
        int len = (Launcher.ceilDiv(Math.max(p, 1), cpi) + Kernels.GT_BK - 1) / Kernels.GT_BK * Kernels.GT_BK;
        cpi = Math.max(1, Launcher.ceilDiv(Math.max(p, 1), len));
        return new int[]{cpi, len};
    }

    void bias(String op, Tensor dy, Tensor db, int n, int c, int p) {
        if (c == 0) return;
        if ((long) n * p == 0) { k.memsetZero(k.ptr(db), c * 4L); return; }
        k.biasGrad(op, dy, db, n, c, p);
    }
}
