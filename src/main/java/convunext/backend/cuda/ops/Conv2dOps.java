package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches conv2d.cu (implicit-GEMM forward and weight gradient with the bias gradient, gather
 * data gradient plus the padding adjoint). The model's two shapes (the 7x7 reflect stem, the 2x2
 * stride-2 downsampling) run kernels with the shape fixed at compile time ({@link #shape}). A
 * 1x1, stride-1, unpadded convolution is exactly a Linear over channels and goes to gemm.cu's
 * plain GEMM instead.
 */
public final class Conv2dOps {
    private static final int ICB = Kernels.CONV_ICB;
    /** Weight-gradient tiles {BM, BN, threads} per shape (conv2d.cu's ..._part_SHAPE_BMxBN). */
    private static final int[][] STEM_TILES = {{32, 32, Kernels.GW_THREADS_32X32}};
    private static final int[][] DOWN_TILES = {{128, 128, Kernels.GW_THREADS_128X128}, {64, 64, Kernels.GW_THREADS_64X64}};
    private static final int[][] ANY_TILES = {{64, 64, Kernels.GW_THREADS_64X64}};
    private final Launcher k;
    private final LinearOps gemm;

    public Conv2dOps(Launcher k, LinearOps gemm) {
        this.k = k;
        this.gemm = gemm;
    }

    /**
     * The kernel shape suffix: the model's two convolutions have kernels with the shape fixed at
     * compile time (k7s1p3r: the 7x7 reflect stem; k2s2p0: the 2x2 stride-2 downsampling), every
     * other shape runs the runtime-shape kernels ("any").
     */
    static String shape(int kk, int stride, int pad, boolean reflect) {
        if (kk == 7 && stride == 1 && pad == 3 && reflect) return "k7s1p3r";
        if (kk == 2 && stride == 2 && pad == 0) return "k2s2p0";
        return "any";
    }

    private static int[][] weightTiles(String shape) {
        return switch (shape) {
            case "k7s1p3r" -> STEM_TILES;
            case "k2s2p0" -> DOWN_TILES;
            default -> ANY_TILES;
        };
    }

    /** Forward tile height: 32 (32x256 tile) for Co <= 32 on the model's shapes, else 64 (64x128). */
    static int forwardBm(String shape, int co) {
        return !shape.equals("any") && co <= Kernels.GT_S_BM ? Kernels.GT_S_BM : Kernels.GT_M_BM;
    }

    private static int[] outSize(String op, Tensor x, Tensor w, int stride, int pad, boolean reflect) {
        Shapes.rank(op, "x", x, 4);
        Shapes.rank(op, "w", w, 4);
        int h = x.dim(2), wd = x.dim(3), kk = w.dim(2);
        Shapes.require(w.dim(1) == x.dim(1) && w.dim(3) == kk,
                op, "w " + w.shapeString() + " does not match x " + x.shapeString() + " (need [Co,Ci,k,k])");
        Shapes.require(stride >= 1 && pad >= 0 && kk >= 1, op, "bad stride " + stride + " / pad " + pad + " / k " + kk);
        Shapes.require(!reflect || (pad < h && pad < wd), op, "reflect padding " + pad + " needs pad < H, W for x " + x.shapeString());
        int oh = (h + 2 * pad - kk) / stride + 1, ow = (wd + 2 * pad - kk) / stride + 1;
        Shapes.require(h + 2 * pad >= kk && wd + 2 * pad >= kk, op, "kernel " + kk + " larger than padded input " + x.shapeString());
        return new int[]{oh, ow};
    }

    private static boolean isPointwise(Tensor w, int stride, int pad) {
        return convunext.backend.OpShapes.conv2dIsLinear(w.shape(), stride, pad);
    }

    public Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        String op = "conv2d";
        int[] o = outSize(op, x, w, stride, pad, reflect);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), kk = w.dim(2);
        if (b != null) Shapes.shape(op, "b", b, co);
        Tensor y = k.empty(n, co, o[0], o[1]);
        if (y.numel() == 0) return y;
        if (isPointwise(w, stride, pad)) {
            gemm.forward(op, x, w, b, y, n, co, ci, h * wd);
            return y;
        }
        int p = o[0] * o[1];
        String shape = shape(kk, stride, pad, reflect);
        int bm = forwardBm(shape, co), bn = LinearOps.bn(bm);
        int tiles = Launcher.ceilDiv(p, bn), rows = Launcher.ceilDiv(co, bm);
        int tpb = LinearOps.tilesPerBlock((long) tiles * rows * n, tiles, ci * kk * kk);
        int[] ow = Launcher.fastDiv(o[1]);
        Kernels.Sink at = k.at(op, new Tensor[]{x, w, b, y}, new int[]{Launcher.ceilDiv(tiles, tpb), rows, n},
                LinearOps.tileBlock(), 0);
        var fw = switch (shape + "_bm" + bm) {   // conv2d.cu's kernel for the shape and tile (one builder type)
            case "k7s1p3r_bm64" -> Kernels.conv2d_forward_k7s1p3r_bm64(at);
            case "k7s1p3r_bm32" -> Kernels.conv2d_forward_k7s1p3r_bm32(at);
            case "k2s2p0_bm64" -> Kernels.conv2d_forward_k2s2p0_bm64(at);
            case "k2s2p0_bm32" -> Kernels.conv2d_forward_k2s2p0_bm32(at);
            case "any_bm64" -> Kernels.conv2d_forward_any_bm64(at);
            default -> throw new IllegalStateException("no conv2d forward kernel " + shape + "_bm" + bm);
        };
        fw.x(k.ptr(x)).w(k.ptr(w)).b(k.ptrOrNull(b)).y(k.ptr(y)).Ci(ci).H(h).W(wd).Co(co).OH(o[0]).OW(o[1])
                .owM(ow[0]).owS(ow[1]).k(kk).s(stride).pad(pad).reflect(reflect ? 1 : 0).tpb(tpb).launch();
        return y;
    }

    public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                   boolean needDx, boolean hasBias) {
        return conv2dBackwardInto(x, w, dy, stride, pad, reflect, needDx, hasBias, null, null, null);
    }

    /**
     * The backward adding into {@code dxInto} / {@code dwInto} / {@code dbInto} where non-null
     * (returned in their slots): the weight gradient's finish and the data GEMMs (1x1, and 2x2 stride 2) add
     * in place; the gather data gradient of other shapes is computed fresh and added (no such
     * input is used twice in the model).
     */
    public Tensor[] conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                       boolean needDx, boolean hasBias, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        String op = "conv2dBackward";
        int[] o = outSize(op, x, w, stride, pad, reflect);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), kk = w.dim(2);
        Shapes.shape(op, "dy", dy, n, co, o[0], o[1]);
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dwInto != null) Shapes.same(op, w, dwInto);
        if (dbInto != null) Shapes.shape(op, "db", dbInto, co);
        int p = o[0] * o[1];
        Tensor dw = dwInto != null ? dwInto : k.empty(co, ci, kk, kk);
        Tensor db = dbInto != null ? dbInto : hasBias ? k.empty(co) : null;
        int acc = (dwInto != null ? 1 : 0) | (dbInto != null ? 2 : 0);
        Tensor dx = null;
        if (isPointwise(w, stride, pad)) {
            dx = dxInto != null ? dxInto : needDx ? k.empty(n, ci, h, wd) : null;
            if (dx != null) gemm.backwardData(op, dy, w, dx, n, ci, co, p, dxInto != null);
            gemm.backwardWeight(op, dy, x, dw, db, n, co, ci, p, acc);
            return new Tensor[]{dx, dw, db};
        }
        weightGrad(op, x, dy, dw, db, n, ci, h, wd, co, o[0], o[1], kk, stride, pad, reflect, acc);
        if (needDx || dxInto != null) {
            if ((long) n * ci * h * wd == 0) {   // an empty dx (N = 0 or Ci = 0): no launch (its grid would be empty)
                dx = dxInto != null ? dxInto : k.empty(n, ci, h, wd);
            } else if (shape(kk, stride, pad, reflect).equals("k2s2p0")) {
                dx = dxInto != null ? dxInto : k.empty(n, ci, h, wd);
                downDataGrad(op, dy, w, dx, n, ci, h, wd, co, o[0], o[1], dxInto != null);
            } else {
                Tensor fresh = k.empty(n, ci, h, wd);
                dataGrad(op, dy, w, fresh, n, ci, h, wd, co, o[0], o[1], kk, stride, pad, reflect);
                if (dxInto != null) {
                    k.addInPlace(op, dxInto, fresh);
                    k.release(fresh);
                    dx = dxInto;
                } else {
                    dx = fresh;
                }
            }
        }
        return new Tensor[]{dx, dw, db};
    }

    /**
     * dw (and db, when non-null, = the row sums of dy) from one split-K launch whose last blocks sum
     * the partials in a fixed order (gemm_splitk.cuh); acc bit 0 / bit 1 adds to dw / db.
     */
    private void weightGrad(String op, Tensor x, Tensor dy, Tensor dw, Tensor db, int n, int ci, int h, int wd, int co,
                            int oh, int ow, int kk, int stride, int pad, boolean reflect, int acc) {
        long kd = (long) ci * kk * kk;
        int p = oh * ow;
        if (p == 0 || n == 0) {   // an empty sum
            if ((acc & 1) == 0) k.memsetZero(k.ptr(dw), dw.numel() * 4L);
            if (db != null && (acc & 2) == 0) k.memsetZero(k.ptr(db), db.numel() * 4L);
            return;
        }
        if (co == 0) return;   // dw and db hold nothing (an empty grid otherwise)
        String shape = shape(kk, stride, pad, reflect);
        int[] t = LinearOps.leastPadded(weightTiles(shape), co, kd);
        int[] split = LinearOps.splitK(n, co, kd, p, t);
        // Ci = 0: one column tile of nothing, still launched for db (as LinearOps.backwardWeight)
        int cpi = split[0], len = split[1], s = n * cpi, gx = Launcher.ceilDiv(Math.max(kd, 1), t[1]), gy = Launcher.ceilDiv(co, t[0]);
        long ss = LinearOps.partialStride(co, kd);
        int[] owd = Launcher.fastDiv(ow);
        int g = LinearOps.group(s);
        long tk = gemm.tickets((long) gx * gy * (Launcher.ceilDiv(s, g) + 1));
        DeviceBuffer ws = k.workspace(s * ss);
        try {
            Kernels.Sink at = k.at(op, new Tensor[]{x, dy, dw, db}, new int[]{gx, gy, s}, new int[]{t[2], 1, 1}, 0);
            var part = switch (shape + "_" + t[0] + "x" + t[1]) {   // conv2d.cu's kernel (one builder type)
                case "k7s1p3r_32x32" -> Kernels.conv2d_backward_weight_part_k7s1p3r_32x32(at);
                case "k2s2p0_128x128" -> Kernels.conv2d_backward_weight_part_k2s2p0_128x128(at);
                case "k2s2p0_64x64" -> Kernels.conv2d_backward_weight_part_k2s2p0_64x64(at);
                case "any_64x64" -> Kernels.conv2d_backward_weight_part_any_64x64(at);
                default -> throw new IllegalStateException("no conv2d weight-gradient kernel " + shape + "_" + t[0] + "x" + t[1]);
            };
            part.x(k.ptr(x)).dy(k.ptr(dy)).ws(ws.address()).dw(k.ptr(dw)).db(k.ptrOrNull(db)).tickets(tk).Ci(ci).H(h).W(wd)
                    .Co(co).OH(oh).OW(ow).owM(owd[0]).owS(owd[1]).k(kk).s(stride).pad(pad).reflect(reflect ? 1 : 0)
                    .cpi(cpi).L(len).SS(ss).G(g).accumulate(acc).launch();
        } finally {
            k.free(ws);
        }
    }

    /**
     * The 2x2 stride-2 data gradient as one GEMM per (image, kernel row)
     * (conv2d_backward_data_k2s2p0_bm*), added into dx when accumulate; an odd last row or column
     * has no output pixel, so a fresh dx is cleared first when H or W is odd.
     */
    private void downDataGrad(String op, Tensor dy, Tensor w, Tensor dx, int n, int ci, int h, int wd, int co,
                              int oh, int ow, boolean accumulate) {
        if (!accumulate && ((h | wd) & 1) != 0) k.memsetZero(k.ptr(dx), dx.numel() * 4L);
        int p = oh * ow;
        if (p == 0) return;
        if (co == 0) {
            if (!accumulate) k.memsetZero(k.ptr(dx), dx.numel() * 4L);
            return;
        }
        int m = 2 * ci, bm = LinearOps.bm(m), bn = LinearOps.bn(bm);
        int tiles = Launcher.ceilDiv(p, bn), rows = Launcher.ceilDiv(m, bm);
        int tpb = LinearOps.tilesPerBlock((long) tiles * rows * 2 * n, tiles, co);
        int[] owd = Launcher.fastDiv(ow);
        LinearOps.pick(bm, Kernels::conv2d_backward_data_k2s2p0_bm128, Kernels::conv2d_backward_data_k2s2p0_bm64,
                        Kernels::conv2d_backward_data_k2s2p0_bm32,
                        k.at(op, new Tensor[]{dy, w, dx}, new int[]{Launcher.ceilDiv(tiles, tpb), rows, 2 * n}, LinearOps.tileBlock(), 0))
                .dy(k.ptr(dy)).w(k.ptr(w)).dx(k.ptr(dx)).Ci(ci).H(h).W(wd).Co(co).OH(oh).OW(ow)
                .owM(owd[0]).owS(owd[1]).tpb(tpb).accumulate(accumulate ? 1 : 0).launch();
    }

    private void dataGrad(String op, Tensor dy, Tensor w, Tensor dx, int n, int ci, int h, int wd, int co,
                          int oh, int ow, int kk, int stride, int pad, boolean reflect) {
        int hp = h + 2 * pad, wp = wd + 2 * pad;
        int occ = Math.max(1, Math.min(16, 8192 / (ICB * kk * kk)));
        int smem = occ * ICB * kk * kk * 4;
        Tensor[] inv = {dy, w, dx};
        DeviceBuffer ws = pad > 0 ? k.workspace((long) n * ci * hp * wp) : null;
        try {
            long dst = ws != null ? ws.address() : k.ptr(dx);
            Kernels.conv2d_backward_data(k.at(op, inv,
                            new int[]{Launcher.ceilDiv((long) hp * wp, Launcher.THREADS), Launcher.ceilDiv(ci, ICB), n},
                            Launcher.block1D(), smem))
                    .dy(k.ptr(dy)).w(k.ptr(w)).dxp(dst).Ci(ci).Hp(hp).Wp(wp).Co(co)
                    .OH(oh).OW(ow).k(kk).s(stride).occ(occ).launch();
            if (ws != null) {
                Kernels.conv2d_backward_fold(k.at(op, inv,
                                new int[]{Launcher.ceilDiv((long) h * wd, Launcher.THREADS), n * ci, 1}, Launcher.block1D(), 0))
                        .dxp(ws.address()).dx(k.ptr(dx)).H(h).W(wd).pad(pad).reflect(reflect ? 1 : 0).launch();
            }
        } finally {
            if (ws != null) k.free(ws);
        }
    }
}
