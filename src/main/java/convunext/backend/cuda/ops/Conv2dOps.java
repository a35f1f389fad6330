package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches conv2d.cu (implicit-GEMM forward and weight gradient, gather data gradient plus the
 * padding adjoint). A 1x1, stride-1, unpadded convolution is exactly a Linear over channels and
 * goes to gemm.cu's plain GEMM instead.
 */
public final class Conv2dOps {
    private static final int BN = Kernels.GT_BN;
    private static final int ICB = Kernels.CONV_ICB;
    private final Launcher k;
    private final LinearOps gemm;

    public Conv2dOps(Launcher k, LinearOps gemm) {
        this.k = k;
        this.gemm = gemm;
    }

    private static int bm(int m) { return LinearOps.bm(m); }

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
        Kernels.Sink at = k.at(op, new Tensor[]{x, w, b},
                new int[]{Launcher.ceilDiv(p, BN), Launcher.ceilDiv(co, bm(co)), n}, LinearOps.tileBlock(), 0);
        (bm(co) == Kernels.GT_BM_SMALL ? Kernels.conv2d_forward_bm32(at) : Kernels.conv2d_forward(at))
                .x(k.ptr(x)).w(k.ptr(w)).b(k.ptrOrNull(b)).y(k.ptr(y))
                .Ci(ci).H(h).W(wd).Co(co).OH(o[0]).OW(o[1]).k(kk).s(stride).pad(pad).reflect(reflect ? 1 : 0).launch();
        return y;
    }

    public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                   boolean needDx, boolean hasBias) {
        String op = "conv2dBackward";
        int[] o = outSize(op, x, w, stride, pad, reflect);
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3), co = w.dim(0), kk = w.dim(2);
        Shapes.shape(op, "dy", dy, n, co, o[0], o[1]);
        int p = o[0] * o[1];
        Tensor dx = needDx ? k.empty(n, ci, h, wd) : null;
        Tensor dw = k.empty(co, ci, kk, kk);
        Tensor db = hasBias ? k.empty(co) : null;
        if (db != null) gemm.bias(op, dy, db, n, co, p);
        if (isPointwise(w, stride, pad)) {
            if (dx != null) gemm.backwardData(op, dy, w, dx, n, ci, co, p);
            gemm.backwardWeight(op, dy, x, dw, n, co, ci, p);
            return new Tensor[]{dx, dw, db};
        }
        weightGrad(op, x, dy, dw, n, ci, h, wd, co, o[0], o[1], kk, stride, pad, reflect);
        if (dx != null) dataGrad(op, dy, w, dx, n, ci, h, wd, co, o[0], o[1], kk, stride, pad, reflect);
        return new Tensor[]{dx, dw, db};
    }

    private void weightGrad(String op, Tensor x, Tensor dy, Tensor dw, int n, int ci, int h, int wd, int co,
                            int oh, int ow, int kk, int stride, int pad, boolean reflect) {
        long kd = (long) ci * kk * kk;
        int p = oh * ow;
        if (p == 0 || n == 0) { k.memsetZero(k.ptr(dw), dw.numel() * 4L); return; }
        int[] split = LinearOps.splitK(n, co, kd, p);
        int cpi = split[0], len = split[1], s = n * cpi;
        DeviceBuffer ws = k.workspace(s * co * kd);
        try {
            Tensor[] inv = {x, dy, dw};
            Kernels.Sink at = k.at(op, inv, new int[]{Launcher.ceilDiv(kd, BN), Launcher.ceilDiv(co, bm(co)), s},
                    LinearOps.tileBlock(), 0);
            (bm(co) == Kernels.GT_BM_SMALL ? Kernels.conv2d_backward_weight_part_bm32(at) : Kernels.conv2d_backward_weight_part(at))
                    .x(k.ptr(x)).dy(k.ptr(dy)).ws(ws.address()).Ci(ci).H(h).W(wd).Co(co)
                    .OH(oh).OW(ow).k(kk).s(stride).pad(pad).reflect(reflect ? 1 : 0).cpi(cpi).L(len).launch();
            gemm.reduce(op, inv, ws, dw, co * kd, s);
        } finally {
            k.free(ws);
        }
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
