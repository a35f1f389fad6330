package convunext.backend.cuda.ops;

import convunext.backend.cuda.CublasGemm;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches gemm.cu: Linear over the channel axis (and 1x1 stride-1 unpadded convolutions, the
 * same GEMM): y[n] = W . x[n] + b per image, dx[n] = W^T . dy[n], dW = sum_n dy[n] . x[n]^T and
 * db = sum dy (one split over pixel chunks for both, summed in a fixed order by the blocks that finish
 * last, in the same launch: gemm_splitk.cuh). Tiles:
 * {@link #bm} picks the forward / data tile (128x128, 64x128, 32x256) by M, {@link #weightTile}
 * the weight tile by (M, N); {@link #grid} lets a block run several column tiles when K is
 * short. When the backend has
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
    /** Forward / data-gradient tile heights (gemm.cu's bm128, bm64, bm32: geometry.h's GT_L/M/S). */
    private static final int[] BMS = {Kernels.GT_L_BM, Kernels.GT_M_BM, Kernels.GT_S_BM};
    /** Weight-gradient tiles {BM, BN, threads} (gemm.cu's gemm_backward_weight_part_BMxBN). */
    static final int[][] WEIGHT_TILES = {{128, 128, Kernels.GW_THREADS_128X128}, {128, 32, Kernels.GW_THREADS_128X32},
            {32, 128, Kernels.GW_THREADS_32X128}, {64, 64, Kernels.GW_THREADS_64X64}, {32, 32, Kernels.GW_THREADS_32X32}};
    /** A block runs several column tiles only when K is at most this (see gt_run_tiles). */
    static final int SHORT_K = Kernels.GT_SHORT_K;
    /** Blocks per column tile taken before a block runs several (GPU fill); tests lower it. */
    static volatile int multiTileBlocks = 2048;
    private final Launcher k;
    private final CublasGemm blas;

    /** For tests: the grid size from which blocks run several column tiles; returns the previous one. */
    public static int setMultiTileBlocks(int blocks) {
        int old = multiTileBlocks;
        multiTileBlocks = Math.max(1, blocks);
        return old;
    }

    /** {@code blas}: cuBLAS for the products, or null for gemm.cu only. */
    public LinearOps(Launcher k, CublasGemm blas) {
        this.k = k;
        this.blas = blas;
    }

    /** Tile height for M rows: the least padded rows, then the taller tile. */
    static int bm(int m) {
        int best = BMS[0];
        long bestRows = Long.MAX_VALUE;
        for (int b : BMS) {
            long rows = (long) Launcher.ceilDiv(Math.max(m, 1), b) * b;
            if (rows < bestRows) { best = b; bestRows = rows; }
        }
        return best;
    }

    /** Tile width that goes with a tile height (BM x BN = 128x128, 64x128, 32x256). */
    static int bn(int bm) {
        return bm == Kernels.GT_S_BM ? Kernels.GT_S_BN : bm == Kernels.GT_M_BM ? Kernels.GT_M_BN : Kernels.GT_L_BN;
    }

    /** gemm_tile.cuh's forward / data block: GT_THREADS threads. */
    static int[] tileBlock() { return new int[]{Kernels.GT_THREADS, 1, 1}; }

    /** The launch of kernel {@code bm128} / {@code bm64} / {@code bm32} (one builder type) for tile height bm. */
    static <T> T pick(int bm, java.util.function.Function<Kernels.Sink, T> bm128, java.util.function.Function<Kernels.Sink, T> bm64,
                      java.util.function.Function<Kernels.Sink, T> bm32, Kernels.Sink at) {
        return (bm == Kernels.GT_S_BM ? bm32 : bm == Kernels.GT_M_BM ? bm64 : bm128).apply(at);
    }

    /**
     * Column tiles per block: 1 unless K is short ({@link #SHORT_K}) and the grid is large, then
     * up to 4 while at least 2048 blocks remain (the device keeps every SM busy).
     */
    static int tilesPerBlock(long blocks, int tiles, int kk) {
        if (kk > SHORT_K) return 1;
        int tpb = (int) Math.max(1, Math.min(4, blocks / multiTileBlocks));
        return Math.max(1, Math.min(tpb, tiles));
    }

    /** {grid, tpb} of a forward / data-gradient launch: C [n images] of m x p over K = kk. */
    static int[][] grid(int n, int m, int p, int kk) {
        int b = bm(m), tiles = Launcher.ceilDiv(Math.max(p, 1), bn(b)), rows = Launcher.ceilDiv(m, b);
        int tpb = tilesPerBlock((long) tiles * rows * n, tiles, kk);
        return new int[][]{{Launcher.ceilDiv(tiles, tpb), rows, n}, {tpb}};
    }

    /** The weight-gradient tile {BM, BN, threads} for dW [m, nc]: least padded area, then the larger tile. */
    static int[] weightTile(int m, long nc) { return leastPadded(WEIGHT_TILES, m, nc); }

    static int[] leastPadded(int[][] tiles, int m, long nc) {
        int[] best = tiles[0];
        long bestArea = Long.MAX_VALUE;
        for (int[] t : tiles) {
            long area = (long) Launcher.ceilDiv(Math.max(m, 1), t[0]) * t[0] * Launcher.ceilDiv(Math.max(nc, 1), t[1]) * t[1];
            if (area < bestArea || (area == bestArea && t[0] * t[1] > best[0] * best[1])) { best = t; bestArea = area; }
        }
        return best;
    }

    /** Floats per split-K partial: dW [m, nc] then db [m], rounded up to 4 (16-byte aligned partials). */
    static long partialStride(int m, long nc) { return ((long) m * nc + m + 3) / 4 * 4; }

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
        int[][] g = grid(n, m, p, kk);
        pick(bm(m), Kernels::gemm_forward_bm128, Kernels::gemm_forward_bm64, Kernels::gemm_forward_bm32,
                k.at(op, new Tensor[]{x, w, b, y}, g[0], tileBlock(), 0))
                .A(k.ptr(w)).B(k.ptr(x)).bias(k.ptrOrNull(b)).C(k.ptr(y))
                .M(m).N(p).K(kk).strideB((long) kk * p).strideC((long) m * p).tpb(g[1][0]).launch();
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
        if ((long) n * co * p > 0) {
            int[][] g = grid(n, co, p, ci);
            pick(bm(co), Kernels::gemm_forward_gelu_bm128, Kernels::gemm_forward_gelu_bm64, Kernels::gemm_forward_gelu_bm32,
                    k.at(op, new Tensor[]{x, w, b, out, pre}, g[0], tileBlock(), 0))
                    .A(k.ptr(w)).B(k.ptr(x)).bias(k.ptrOrNull(b)).h(k.ptr(out)).pre(k.ptrOrNull(pre))
                    .M(co).N(p).K(ci).strideB((long) ci * p).strideC((long) co * p).tpb(g[1][0]).launch();
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
        int[][] g = grid(n, ci, p, co);
        pick(bm(ci), Kernels::gemm_backward_data_gelu_bm128, Kernels::gemm_backward_data_gelu_bm64,
                Kernels::gemm_backward_data_gelu_bm32, k.at(op, new Tensor[]{w, dy, pre, dpre}, g[0], tileBlock(), 0))
                .A(k.ptr(w)).B(k.ptr(dy)).pre(k.ptr(pre)).C(k.ptr(dpre))
                .M(ci).N(p).K(co).strideB((long) co * p).strideC((long) ci * p).tpb(g[1][0]).launch();
        return dpre;
    }

    public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        return linearBackwardInto(x, w, dy, needDx, hasBias, null, null, null);
    }

    /**
     * The backward adding into {@code dxInto} / {@code dwInto} / {@code dbInto} where non-null
     * (returned in their slots): the data GEMM's epilogue and the weight gradient's finish add to what they
     * hold, so no separate add pass runs.
     */
    public Tensor[] linearBackwardInto(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias,
                                       Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        String op = "linearBackward";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0);
        Shapes.shape(op, "dy", dy, n, co, h, wd);
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dwInto != null) Shapes.same(op, w, dwInto);
        if (dbInto != null) Shapes.shape(op, "db", dbInto, co);
        Tensor dx = dxInto != null ? dxInto : needDx ? k.empty(n, ci, h, wd) : null;
        if (dx != null) backwardData(op, dy, w, dx, n, ci, co, h * wd, dxInto != null);
        Tensor dw = dwInto != null ? dwInto : k.empty(w.shape());   // [Co,Ci] or a 1x1 conv weight [Co,Ci,1,1]
        Tensor db = dbInto != null ? dbInto : hasBias ? k.empty(co) : null;
        backwardWeight(op, dy, x, dw, db, n, co, ci, h * wd, (dwInto != null ? 1 : 0) | (dbInto != null ? 2 : 0));
        return new Tensor[]{dx, dw, db};
    }

    /** dx = w^T . dy alone, shaped like x [N,Ci,H,W] (the unfused half of linearBackwardDataGelu). */
    public Tensor linearBackwardData(Tensor w, Tensor dy, Tensor x) {
        String op = "linearBackwardData";
        check(op, x, w);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0);
        Shapes.shape(op, "dy", dy, n, co, h, wd);
        Tensor dx = k.empty(n, ci, h, wd);
        backwardData(op, dy, w, dx, n, ci, co, h * wd, false);
        return dx;
    }

    /** dx [N,M,P] = w^T . dy, w [K,M] (M = Ci, K = Co); added to dx when accumulate. */
    void backwardData(String op, Tensor dy, Tensor w, Tensor dx, int n, int m, int kk, int p, boolean accumulate) {
        if ((long) n * m * p == 0) return;
        if (kk == 0) {   // w^T . dy = 0
            if (!accumulate) k.memsetZero(k.ptr(dx), dx.numel() * 4L);
            return;
        }
        if (blas != null) {
            Tensor t = accumulate ? k.empty(dx.shape()) : dx;
            blas.backwardData(k.ptr(w), k.ptr(dy), k.ptr(t), n, m, kk, p);
            if (accumulate) { k.addInPlace(op, dx, t); k.release(t); }
            return;
        }
        int[][] g = grid(n, m, p, kk);
        pick(bm(m), Kernels::gemm_backward_data_bm128, Kernels::gemm_backward_data_bm64, Kernels::gemm_backward_data_bm32,
                k.at(op, new Tensor[]{dy, w, dx}, g[0], tileBlock(), 0))
                .A(k.ptr(w)).B(k.ptr(dy)).C(k.ptr(dx))
                .M(m).N(p).K(kk).strideB((long) kk * p).strideC((long) m * p).tpb(g[1][0]).accumulate(accumulate ? 1 : 0)
                .launch();
    }

    /**
     * dw [M,Nc] = sum_n dy[n] (M x P) . x[n]^T (P x Nc) and, when db is non-null, db [M] = the
     * row sums of dy, from one split-K launch (gemm_backward_weight_part_*) whose last blocks sum the
     * partials in a fixed order into both ({@code accumulate} bit 0 / bit 1: adds to dw / db).
     */
    void backwardWeight(String op, Tensor dy, Tensor x, Tensor dw, Tensor db, int n, int m, int nc, int p, int accumulate) {
        if (blas != null) {
            Tensor tw = (accumulate & 1) != 0 ? k.empty(dw.shape()) : dw;
            Tensor tb = db != null && (accumulate & 2) != 0 ? k.empty(db.shape()) : db;
            if ((long) m * nc > 0) blas.backwardWeight(k.ptr(dy), k.ptr(x), k.ptr(tw), n, m, nc, p);
            if (tb != null) bias(op, dy, tb, n, m, p);
            if (tw != dw) { k.addInPlace(op, dw, tw); k.release(tw); }
            if (tb != db) { k.addInPlace(op, db, tb); k.release(tb); }
            return;
        }
        if (m == 0) return;
        if ((long) n * p == 0) {   // an empty sum
            if (nc > 0 && (accumulate & 1) == 0) k.memsetZero(k.ptr(dw), (long) m * nc * 4L);
            if (db != null && (accumulate & 2) == 0) k.memsetZero(k.ptr(db), m * 4L);
            return;
        }
        int[] t = weightTile(m, nc);
        int[] split = splitK(n, m, nc, p, t);
        int cpi = split[0], len = split[1], s = n * cpi, gx = Launcher.ceilDiv(Math.max(nc, 1), t[1]), gy = Launcher.ceilDiv(m, t[0]);
        long ss = partialStride(m, nc);
        int g = group(s);
        long tk = tickets((long) gx * gy * (Launcher.ceilDiv(s, g) + 1));
        DeviceBuffer ws = k.workspace(s * ss);
        try {
            Kernels.Sink at = k.at(op, new Tensor[]{dy, x, dw, db}, new int[]{gx, gy, s}, new int[]{t[2], 1, 1}, 0);
            var part = switch (t[0] + "x" + t[1]) {   // gemm.cu's kernel for the tile (one builder type)
                case "128x128" -> Kernels.gemm_backward_weight_part_128x128(at);
                case "128x32" -> Kernels.gemm_backward_weight_part_128x32(at);
                case "32x128" -> Kernels.gemm_backward_weight_part_32x128(at);
                case "64x64" -> Kernels.gemm_backward_weight_part_64x64(at);
                case "32x32" -> Kernels.gemm_backward_weight_part_32x32(at);
                default -> throw new IllegalArgumentException("no weight-gradient kernel for tile " + t[0] + "x" + t[1]);
            };
            part.A(k.ptr(dy)).B(k.ptr(x)).ws(ws.address()).dw(k.ptr(dw)).db(k.ptrOrNull(db)).tickets(tk).M(m).N(nc).K(p)
                    .strideA((long) m * p).strideB((long) nc * p).cpi(cpi).L(len).SS(ss).G(g).accumulate(accumulate).launch();
        } finally {
            k.free(ws);
        }
    }

    /**
     * Splits per group of gemm_splitk.cuh's two-level finish for s splits: ceil(sqrt(s)), so that
     * no finishing block sums more than about 2 sqrt(s) partials of its tile.
     */
    public static int group(int s) {
        int g = (int) Math.ceil(Math.sqrt(Math.max(1, s)));
        while ((long) (g - 1) * (g - 1) >= s && g > 1) g--;
        return g;
    }

    private final java.util.List<DeviceBuffer> ticketBuffers = new java.util.ArrayList<>();
    private long ticketCount;

    /**
     * The address of at least {@code count} zeroed ticket counters (gemm_splitk.cuh; every launch
     * leaves them zero). Allocated once, when a launch first needs more than the last buffer holds
     * (the first step's shapes), and kept for the backend's life: a captured step graph may hold
     * an older buffer's address, and a step allocates nothing for them.
     */
    synchronized long tickets(long count) {
        if (count > ticketCount) {
            long n = Math.max(4096, Long.highestOneBit(count - 1) << 1);
            DeviceBuffer b = k.persistent(n);
            k.device().memsetZero(b.address(), n * 4L);
            ticketBuffers.add(b);
            ticketCount = n;
        }
        return ticketBuffers.get(ticketBuffers.size() - 1).address();
    }

    /** Weight-gradient blocks aimed at: 4 per SM of an H100/H200 (132 SMs), enough with cp.async
     *  double buffering to keep ~40 KB of loads in flight per SM, while the partials stay a few
     *  percent of the inputs' bytes (each costs a write and a read in the finish). */
    static final int WEIGHT_BLOCKS = 528;

    /**
     * Split of the long K (pixels) of a weight gradient with tile t = {BM, BN, threads}:
     * {chunks per image, chunk length}. Aims at {@link #WEIGHT_BLOCKS} blocks, chunks of at least
     * 128 pixels (a multiple of the 16-deep K slice) and a workspace of at most 16 M floats.
     */
    static int[] splitK(int n, int m, long nc, int p, int[] t) {
        long tiles = (long) Launcher.ceilDiv(Math.max(nc, 1), t[1]) * Launcher.ceilDiv(Math.max(m, 1), t[0]);
        long wantBlocks = WEIGHT_BLOCKS;
        int want = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (wantBlocks + tiles * n - 1) / (tiles * n)));
        int cpi = Math.max(1, Math.min(want, Launcher.ceilDiv(Math.max(p, 1), 128)));
        long cap = Math.max(1, (16L << 20) / Math.max(1, (long) n * partialStride(m, nc)));
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
