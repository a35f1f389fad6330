package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches layout.cu: zero pad / crop and channel concat / slice. */
public final class LayoutOps {
    private final Launcher k;

    public LayoutOps(Launcher k) { this.k = k; }

    public Tensor pad2d(Tensor x, int top, int bottom, int left, int right) {
        String op = "pad2d";
        Shapes.rank(op, "x", x, 4);
        Shapes.require(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, op,
                "negative padding " + top + "," + bottom + "," + left + "," + right);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int ho = h + top + bottom, wo = w + left + right;
        Tensor y = k.empty(n, c, ho, wo);
        if (y.numel() > 0)
            Kernels.pad2d_forward(k.at(op, new Tensor[]{x},
                            new int[]{Launcher.ceilDiv((long) ho * wo, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).H(h).W(w).Ho(ho).Wo(wo).top(top).left(left).launch();
        return y;
    }

    public Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w) {
        String op = "pad2dBackward";
        Shapes.rank(op, "dy", dy, 4);
        int hi = dy.dim(2), wi = dy.dim(3);
        Shapes.require(top >= 0 && left >= 0 && h >= 0 && w >= 0 && top + h <= hi && left + w <= wi, op,
                "crop " + h + "x" + w + " at (" + top + "," + left + ") outside dy " + dy.shapeString());
        int n = dy.dim(0), c = dy.dim(1);
        Tensor dx = k.empty(n, c, h, w);
        if (dx.numel() > 0)
            Kernels.pad2d_backward(k.at(op, new Tensor[]{dy},
                            new int[]{Launcher.ceilDiv((long) h * w, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0))
                    .dy(k.ptr(dy)).dx(k.ptr(dx)).Hi(hi).Wi(wi).H(h).W(w).top(top).left(left).launch();
        return dx;
    }

    public Tensor concat(Tensor a, Tensor b) {
        String op = "concat";
        Shapes.rank(op, "a", a, 4);
        Shapes.rank(op, "b", b, 4);
        Shapes.require(a.dim(0) == b.dim(0) && a.dim(2) == b.dim(2) && a.dim(3) == b.dim(3), op,
                "shapes differ outside the channel axis: " + a.shapeString() + " vs " + b.shapeString());
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), p = a.spatial(2);
        Tensor y = k.empty(n, ca + cb, a.dim(2), a.dim(3));
        if (y.numel() > 0)
            Kernels.concat_forward(k.at(op, new Tensor[]{a, b},
                            new int[]{Launcher.ceilDiv((long) (ca + cb) * p, (long) Kernels.CU_PIECE * Launcher.THREADS), n, 1}, Launcher.block1D(), 0))
                    .a(k.ptr(a)).b(k.ptr(b)).y(k.ptr(y)).Ca(ca).Cb(cb).P(p).launch();
        return y;
    }

    public Tensor sliceChannels(Tensor x, int c0, int c1) {
        String op = "sliceChannels";
        Shapes.rank(op, "x", x, 4);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require(0 <= c0 && c0 <= c1 && c1 <= c, op, "channels [" + c0 + "," + c1 + ") outside x " + x.shapeString());
        Tensor y = k.empty(n, c1 - c0, x.dim(2), x.dim(3));
        if (y.numel() > 0)
            Kernels.concat_backward(k.at(op, new Tensor[]{x},
                            new int[]{Launcher.ceilDiv((long) (c1 - c0) * p, (long) Kernels.CU_PIECE * Launcher.THREADS), n, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).C(c).c0(c0).Cs(c1 - c0).P(p).launch();
        return y;
    }

    /** {channels [0, ca), channels [ca, C)} of dy in one launch (concat_backward_split). */
    public Tensor[] concatBackward(Tensor dy, int ca) {
        String op = "concatBackward";
        Shapes.rank(op, "dy", dy, 4);
        int n = dy.dim(0), c = dy.dim(1), p = dy.spatial(2);
        Shapes.require(0 <= ca && ca <= c, op, "split at channel " + ca + " outside dy " + dy.shapeString());
        Tensor a = k.empty(n, ca, dy.dim(2), dy.dim(3)), b = k.empty(n, c - ca, dy.dim(2), dy.dim(3));
        if (dy.numel() > 0)
            Kernels.concat_backward_split(k.at(op, new Tensor[]{dy, a, b},
                            new int[]{Launcher.ceilDiv((long) c * p, (long) Kernels.CU_PIECE * Launcher.THREADS), n, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(dy)).a(k.ptr(a)).b(k.ptr(b)).Ca(ca).Cb(c - ca).P(p).launch();
        return new Tensor[]{a, b};
    }
}
