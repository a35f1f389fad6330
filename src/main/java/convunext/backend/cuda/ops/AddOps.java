package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches elementwise.cu's add kernels: a + b into a new tensor, and dst += src in place. */
public final class AddOps {
    private final Launcher k;

    public AddOps(Launcher k) { this.k = k; }

    public Tensor add(Tensor a, Tensor b) {
        Shapes.same("add", a, b);
        Tensor y = k.empty(a.shape());
        if (y.numel() > 0)
            Kernels.add_forward(k.at("add", new Tensor[]{a, b}, Launcher.grid1D(a.numel()), Launcher.block1D(), 0))
                    .a(k.ptr(a)).b(k.ptr(b)).y(k.ptr(y)).n(a.numel()).launch();
        return y;
    }

    public void addInPlace(Tensor dst, Tensor src) {
        Shapes.require(dst.numel() == src.numel(), "addInPlace", "element counts differ: " + dst.shapeString() + " vs " + src.shapeString());
        if (dst.numel() > 0)
            Kernels.add_forward_inplace(k.at("addInPlace", new Tensor[]{dst, src}, Launcher.grid1D(dst.numel()),
                    Launcher.block1D(), 0)).dst(k.ptr(dst)).src(k.ptr(src)).n(dst.numel()).launch();
    }
}
