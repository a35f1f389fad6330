package convunext.backend.cuda.ops;

import convunext.backend.cuda.KernelArgs;
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
            k.launch("add", new Tensor[]{a, b}, "add_forward", Launcher.grid1D(a.numel()), Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(a)).ptr(k.ptr(b)).ptr(k.ptr(y)).i64(a.numel()));
        return y;
    }

    public void addInPlace(Tensor dst, Tensor src) {
        Shapes.require(dst.numel() == src.numel(), "addInPlace", "element counts differ: " + dst.shapeString() + " vs " + src.shapeString());
        if (dst.numel() > 0)
            k.launch("addInPlace", new Tensor[]{dst, src}, "add_forward_inplace", Launcher.grid1D(dst.numel()),
                    Launcher.block1D(), 0, new KernelArgs().ptr(k.ptr(dst)).ptr(k.ptr(src)).i64(dst.numel()));
    }
}
