package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches adamw.cu over whole (flat) parameter, gradient and moment buffers. The step's scalars
 * (lr and the bias corrections change every step) go to a small device buffer by a copy queued
 * before the launch, never into the kernel's parameters: a captured step (CUDA graph) then reads
 * each replay's values.
 */
public final class AdamWOps {
    private static final int HP = 7;   // lr, beta1, beta2, eps, wd, stepSize, bc2sqrt (adamw.cu's hp)
    private final Launcher k;
    private final float[] host = new float[HP];
    private DeviceBuffer hp;

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
        if (hp == null) hp = k.persistent(HP);
        host[0] = lr; host[1] = beta1; host[2] = beta2; host[3] = eps; host[4] = weightDecay;
        host[5] = stepSize; host[6] = bc2sqrt;
        k.copyHtoD(hp.address(), host, 0, HP);
        Kernels.adamw_forward(k.at(op, new Tensor[]{p, g, m, v}, Launcher.grid1D((n + 3) / 4), Launcher.block1D(), 0))   // 4 elements per thread (cu_for4)
                .p(k.ptr(p)).g(k.ptr(g)).m(k.ptr(m)).v(k.ptr(v)).n(n).hp(hp.address()).launch();
    }
}
