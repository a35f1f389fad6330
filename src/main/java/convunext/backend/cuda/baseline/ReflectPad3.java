package convunext.backend.cuda.baseline;

import convunext.backend.cuda.ops.Launcher;
import convunext.backend.cuda.CudaBackend;
import convunext.backend.cuda.CudaError;
import convunext.backend.cuda.CudnnProbe;
import convunext.backend.cuda.Device;
import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.JCudaDevice;
import convunext.backend.cuda.Kernels;
import convunext.backend.cuda.ops.Launcher;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Reflect padding by 3 (PyTorch padding_mode='reflect') and its adjoint on our kernels, for
 * {@link CudnnDwConv7} (cuDNN pads with zeros only). No new kernel: kernels/ has no standalone
 * reflect pad (layout.cu's pad2d pads with zeros), so
 * <ul>
 * <li>{@link #pad}: x [N,C,H,W] -> xp [N,C,H+6,W+6], xp[.,y,x] = x[.,refl(y-3),refl(x-3)], is
 *     conv2d.cu's conv2d_forward (through Backend.conv2d) on the [N·C,1,H,W] view with a 1×1
 *     weight of 1.0, no bias and reflect padding 3 — exact, since 1·v = v;
 * <li>{@link #fold}: dxp [N,C,H+6,W+6] -> dx [N,C,H,W], the adjoint (each dx[y][x] sums dxp at
 *     every padded position that copies x[y][x]), is conv2d.cu's conv2d_backward_fold.
 * </ul>
 * Both need H, W >= 4 (a single reflection) and N·C <= 65535 (grid y / z).
 */
public final class ReflectPad3 implements AutoCloseable {
    public static final int PAD = 3;
    private final CudaBackend be;
    private final Launcher k;
    private final Tensor unit;   // [1,1,1,1] = 1

    public ReflectPad3(CudaBackend be) {
        this.be = be;
        this.k = be.launcher();
        this.unit = be.upload(new float[] {1f}, 1, 1, 1, 1);
    }

    public Tensor pad(Tensor x) {
        String op = "reflect pad 3";
        Shapes.rank(op, "x", x, 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Shapes.require(h >= 4 && w >= 4, op, "reflect padding 3 needs H, W >= 4, got x " + x.shapeString());
        Tensor p = be.conv2d(be.view(x, 0, n * c, 1, h, w), unit, null, 1, PAD, true);
        // [N·C,1,H+6,W+6] is the same memory as [N,C,H+6,W+6]; the new tensor owns the buffer.
        return new Tensor(be, p.storage(), p.offset(), n, c, h + 2 * PAD, w + 2 * PAD);
    }

    public Tensor fold(Tensor dxp) {
        String op = "reflect pad 3 adjoint (fold)";
        Shapes.rank(op, "dxp", dxp, 4);
        int n = dxp.dim(0), c = dxp.dim(1), h = dxp.dim(2) - 2 * PAD, w = dxp.dim(3) - 2 * PAD;
        Shapes.require(h >= 4 && w >= 4, op, "dxp must be [N,C,H+6,W+6] with H, W >= 4, got " + dxp.shapeString());
        Tensor dx = be.empty(n, c, h, w);
        if (dx.numel() == 0) return dx;
        Kernels.conv2d_backward_fold(k.at(op, new Tensor[]{dxp, dx},
                        new int[]{Launcher.ceilDiv((long) h * w, Launcher.THREADS), n * c, 1}, Launcher.block1D(), 0))
                .dxp(k.ptr(dxp)).dx(k.ptr(dx)).H(h).W(w).pad(PAD).reflect(1).launch();
        return dx;
    }

    @Override public void close() { be.release(unit); }
}
