package convunext.backend.cuda.ops;

import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches gelu.cu (exact erf GELU, and the residual add fused with it) over flat buffers. */
public final class GeluOps {
    private final Launcher k;

    public GeluOps(Launcher k) { this.k = k; }

    public Tensor gelu(Tensor x) {
        Tensor y = k.empty(x.shape());
        if (x.numel() > 0)
            k.launch("gelu", new Tensor[]{x}, "gelu_forward", Launcher.grid1D(x.numel()), Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(y)).i64(x.numel()));
        return y;
    }

    public Tensor geluBackward(Tensor x, Tensor dy) {
        Shapes.same("geluBackward", x, dy);
        Tensor dx = k.empty(x.shape());
        if (x.numel() > 0)
            k.launch("geluBackward", new Tensor[]{x, dy}, "gelu_backward", Launcher.grid1D(x.numel()),
                    Launcher.block1D(), 0, new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(dy)).ptr(k.ptr(dx)).i64(x.numel()));
        return dx;
    }

    /** {out = gelu(a + b), pre = a + b (null unless keepPre)}: add_gelu_forward, one pass. */
    public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) {
        Shapes.same("addGelu", a, b);
        Tensor out = k.empty(a.shape()), pre = keepPre ? k.empty(a.shape()) : null;
        if (a.numel() > 0)
            k.launch("addGelu", new Tensor[]{a, b}, "add_gelu_forward", Launcher.grid1D(a.numel()), Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(a)).ptr(k.ptr(b)).ptr(k.ptr(out)).ptr(k.ptrOrNull(pre)).i64(a.numel()));
        return new Tensor[]{out, pre};
    }
}
