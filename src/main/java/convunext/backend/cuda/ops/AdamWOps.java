package convunext.backend.cuda.ops;

import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches adamw.cu over whole (flat) parameter, gradient and moment buffers. */
public final class AdamWOps {
    private final Launcher k;

    public AdamWOps(Launcher k) { this.k = k; }

    public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                      float weightDecay, int step) {
        String op = "adamw";
        long n = p.numel();
        Shapes.require(g.numel() == n && m.numel() == n && v.numel() == n, op,
                "element counts differ: p " + p.shapeString() + ", g " + g.shapeString() + ", m " + m.shapeString()
                        + ", v " + v.shapeString());
        Shapes.require(step >= 1, op, "step must be >= 1, got " + step);
        if (n == 0) return;
        // As torch: step_size = lr / (1 - beta1^t) and sqrt(1 - beta2^t) in double, then float.
        double bc1 = 1.0 - Math.pow(beta1, step), bc2 = 1.0 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1), bc2sqrt = (float) Math.sqrt(bc2);
        k.launch(op, new Tensor[]{p, g, m, v}, "adamw_forward", Launcher.grid1D(n), Launcher.block1D(), 0,
                new KernelArgs().ptr(k.ptr(p)).ptr(k.ptr(g)).ptr(k.ptr(m)).ptr(k.ptr(v)).i64(n).f32(lr).f32(beta1)
                        .f32(beta2).f32(eps).f32(weightDecay).f32(stepSize).f32(bc2sqrt));
    }
}
