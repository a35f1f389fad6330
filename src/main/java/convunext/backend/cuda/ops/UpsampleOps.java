package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches upsample.cu: bilinear x2 (align_corners=True) and its adjoint, one plane per grid y. */
public final class UpsampleOps {
    private final Launcher k;

    public UpsampleOps(Launcher k) { this.k = k; }

    public Tensor upsample2x(Tensor x) {
        Shapes.rank("upsample2x", "x", x, 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = k.empty(n, c, 2 * h, 2 * w);
        if (y.numel() > 0)
            Kernels.upsample2x_forward(k.at("upsample2x", new Tensor[]{x},
                            new int[]{Launcher.ceilDiv(4L * h * w, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).H(h).W(w).launch();
        return y;
    }

    public Tensor upsample2xBackward(Tensor dy) {
        String op = "upsample2xBackward";
        Shapes.rank(op, "dy", dy, 4);
        Shapes.require(dy.dim(2) % 2 == 0 && dy.dim(3) % 2 == 0, op, "dy " + dy.shapeString() + " has odd spatial size");
        int n = dy.dim(0), c = dy.dim(1), h = dy.dim(2) / 2, w = dy.dim(3) / 2;
        Tensor dx = k.empty(n, c, h, w);
        if (dx.numel() > 0)
            Kernels.upsample2x_backward(k.at(op, new Tensor[]{dy},
                            new int[]{Launcher.ceilDiv((long) h * w, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0))
                    .dy(k.ptr(dy)).dx(k.ptr(dx)).H(h).W(w).launch();
        return dx;
    }
}
