package convunext.backend.cuda.ops;

import convunext.backend.cuda.KernelArgs;
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
            k.launch(op, new Tensor[]{x}, "pad2d_forward",
                    new int[]{Launcher.ceilDiv((long) ho * wo, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(y)).i32(h).i32(w).i32(ho).i32(wo).i32(top).i32(left));
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
            k.launch(op, new Tensor[]{dy}, "pad2d_backward",
                    new int[]{Launcher.ceilDiv((long) h * w, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(dy)).ptr(k.ptr(dx)).i32(hi).i32(wi).i32(h).i32(w).i32(top).i32(left));
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
            k.launch(op, new Tensor[]{a, b}, "concat_forward",
                    new int[]{Launcher.ceilDiv((long) (ca + cb) * p, 4L * Launcher.THREADS), n, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(a)).ptr(k.ptr(b)).ptr(k.ptr(y)).i32(ca).i32(cb).i32(p));
        return y;
    }

    public Tensor sliceChannels(Tensor x, int c0, int c1) {
        String op = "sliceChannels";
        Shapes.rank(op, "x", x, 4);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require(0 <= c0 && c0 <= c1 && c1 <= c, op, "channels [" + c0 + "," + c1 + ") outside x " + x.shapeString());
        Tensor y = k.empty(n, c1 - c0, x.dim(2), x.dim(3));
        if (y.numel() > 0)
            k.launch(op, new Tensor[]{x}, "concat_backward",
                    new int[]{Launcher.ceilDiv((long) (c1 - c0) * p, 4L * Launcher.THREADS), n, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(y)).i32(c).i32(c0).i32(c1 - c0).i32(p));
        return y;
    }
}
