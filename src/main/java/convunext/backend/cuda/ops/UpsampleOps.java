package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches upsample.cu: bilinear x2 (align_corners=True) and its adjoint, one plane per grid z,
 * 32x8 threads: the forward one block per 128x16 output tile, the backward one thread per 4 dx
 * columns of one row.
 */
public final class UpsampleOps {
    private static final int[] BLOCK = {32, 8, 1};
    private static final int FX = Kernels.UP_FX, FY = Kernels.UP_FY;   // the forward's output tile
    private final Launcher k;

    public UpsampleOps(Launcher k) { this.k = k; }

    public Tensor upsample2x(Tensor x) {
        Shapes.rank("upsample2x", "x", x, 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = k.empty(n, c, 2 * h, 2 * w);
        if (y.numel() > 0)
            Kernels.upsample2x_forward(k.at("upsample2x", new Tensor[]{x},
                            new int[]{Launcher.ceilDiv(2L * w, FX), Launcher.ceilDiv(2L * h, FY), n * c}, BLOCK, 0))
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
                            new int[]{Launcher.ceilDiv(Launcher.ceilDiv(w, 4), 32), Launcher.ceilDiv(h, 8), n * c}, BLOCK, 0))
                    .dy(k.ptr(dy)).dx(k.ptr(dx)).H(h).W(w).launch();
        return dx;
    }
}
