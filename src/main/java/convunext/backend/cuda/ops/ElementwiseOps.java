package convunext.backend.cuda.ops;

import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches elementwise.cu (add, in-place add, fill) and does the plain copies. */
public final class ElementwiseOps {
    private final Launcher k;

    public ElementwiseOps(Launcher k) { this.k = k; }

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

    public void fill(Tensor t, float v) {
        if (t.numel() == 0) return;
        if (Float.floatToRawIntBits(v) == 0) {
            k.device().memsetZero(k.ptr(t), t.numel() * 4L);
            return;
        }
        k.launch("fill", new Tensor[]{t}, "fill_forward", Launcher.grid1D(t.numel()), Launcher.block1D(), 0,
                new KernelArgs().ptr(k.ptr(t)).f32(v).i64(t.numel()));
    }

    public void copy(Tensor src, Tensor dst) {
        Shapes.require(dst.numel() == src.numel(), "copy", "element counts differ: " + src.shapeString() + " vs " + dst.shapeString());
        if (src.numel() > 0) k.device().copyDtoD(k.ptr(dst), k.ptr(src), src.numel() * 4L);
    }
}
