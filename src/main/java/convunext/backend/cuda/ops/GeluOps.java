package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches gelu.cu (exact erf GELU, and the residual add fused with it) over flat buffers. */
public final class GeluOps {
    private final Launcher k;

    public GeluOps(Launcher k) { this.k = k; }

    public Tensor gelu(Tensor x) {
        Tensor y = k.empty(x.shape());
        if (x.numel() > 0)
            Kernels.gelu_forward(k.at("gelu", new Tensor[]{x}, Launcher.grid1D(x.numel()), Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).n(x.numel()).launch();
        return y;
    }

    public Tensor geluBackward(Tensor x, Tensor dy) {
        Shapes.same("geluBackward", x, dy);
        Tensor dx = k.empty(x.shape());
        if (x.numel() > 0)
            Kernels.gelu_backward(k.at("geluBackward", new Tensor[]{x, dy}, Launcher.grid1D(x.numel()), Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).dx(k.ptr(dx)).n(x.numel()).launch();
        return dx;
    }

    /** {out = gelu(a + b), pre = a + b (null unless keepPre)}: add_gelu_forward, one pass. */
    public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) {
        Shapes.same("addGelu", a, b);
        Tensor out = k.empty(a.shape()), pre = keepPre ? k.empty(a.shape()) : null;
        if (a.numel() > 0)
            Kernels.add_gelu_forward(k.at("addGelu", new Tensor[]{a, b}, Launcher.grid1D(a.numel()), Launcher.block1D(), 0))
                    .a(k.ptr(a)).b(k.ptr(b)).out(k.ptr(out)).pre(k.ptrOrNull(pre)).n(a.numel()).launch();
        return new Tensor[]{out, pre};
    }
}
