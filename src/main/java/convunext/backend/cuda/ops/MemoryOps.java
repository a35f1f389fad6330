package convunext.backend.cuda.ops;

import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** The backend's memory ops on the device: fill (elementwise.cu's fill_forward, or a memset for zero) and copy. */
public final class MemoryOps {
    private final Launcher k;

    public MemoryOps(Launcher k) { this.k = k; }

    public void fill(Tensor t, float v) {
        if (t.numel() == 0) return;
        if (Float.floatToRawIntBits(v) == 0) {
            k.memsetZero(k.ptr(t), t.numel() * 4L);
            return;
        }
        Kernels.fill_forward(k.at("fill", new Tensor[]{t}, Launcher.grid1D(t.numel()), Launcher.block1D(), 0))
                .t(k.ptr(t)).v(v).n(t.numel()).launch();
    }

    public void copy(Tensor src, Tensor dst) {
        Shapes.require(dst.numel() == src.numel(), "copy", "element counts differ: " + src.shapeString() + " vs " + dst.shapeString());
        if (src.numel() > 0) k.copyDtoD(k.ptr(dst), k.ptr(src), src.numel() * 4L);
    }
}
