package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.KernelArgs;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches batchnorm.cu: double-precision partial statistics, then one apply kernel whose blocks
 * each finish the channel's statistics themselves (2 launches per forward, 2 per backward).
 */
public final class BatchNormOps {
    private static final int EPB = 4096;   // BN_EPB: elements of one plane per apply block
    private final Launcher k;

    public BatchNormOps(Launcher k) { this.k = k; }

    private static void check(String op, Tensor x, Tensor... perChannel) {
        Shapes.rank(op, "x", x, 4);
        for (Tensor t : perChannel) Shapes.shape(op, "per-channel vector", t, x.dim(1));
    }

    private static int[] applyGrid(int n, int c, int p) {
        return new int[]{Launcher.ceilDiv(Math.max(p, 1), Launcher.THREADS), Math.max(c, 1), Math.max(n, 1)};
    }

    private static int[] blockApplyGrid(int n, int c, int p) {
        return new int[]{Launcher.ceilDiv(Math.max(p, 1), EPB), Math.max(c, 1), Math.max(n, 1)};
    }

    public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps) {
        String op = "batchnormTrain";
        check(op, x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        Tensor y = k.empty(x.shape()), mean = k.empty(c), invstd = k.empty(c);
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);   // 2 doubles per (c, chunk)
        Tensor[] inv = {x, gamma, beta, runMean, runVar};
        try {
            k.launch(op, inv, "batchnorm_forward_stats_part", new int[]{s, c, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(ws.address()).i32(c).i32(p).i32(ch[0]).i32(ch[1]));
            k.launch(op, inv, "batchnorm_forward_apply", blockApplyGrid(n, c, p), Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(y)).ptr(k.ptr(gamma)).ptr(k.ptr(beta)).ptr(ws.address())
                            .ptr(k.ptr(mean)).ptr(k.ptr(invstd)).ptr(k.ptr(runMean)).ptr(k.ptr(runVar))
                            .i32(c).i32(p).i32(s).i64((long) n * p).f32(momentum).f32(eps));
        } finally {
            k.free(ws);
        }
        return new Tensor[]{y, mean, invstd};
    }

    public Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        String op = "batchnormEval";
        check(op, x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Tensor y = k.empty(x.shape());
        if (y.numel() == 0) return y;
        k.launch(op, new Tensor[]{x, gamma, beta, runMean, runVar}, "batchnorm_forward_eval", applyGrid(n, c, p),
                Launcher.block1D(), 0,
                new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(y)).ptr(k.ptr(gamma)).ptr(k.ptr(beta)).ptr(k.ptr(runMean))
                        .ptr(k.ptr(runVar)).f32(eps).i32(c).i32(p));
        return y;
    }

    public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return batchnormBackwardInto(x, dy, gamma, mean, invstd, null, null, null);
    }

    /**
     * The backward, adding into {@code dxInto} / {@code dgammaInto} / {@code dbetaInto} where
     * non-null (each returned in its slot; a null slot is a fresh tensor).
     */
    public Tensor[] batchnormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd,
                                          Tensor dxInto, Tensor dgammaInto, Tensor dbetaInto) {
        String op = "batchnormBackward";
        check(op, x, gamma, mean, invstd);
        Shapes.same(op, x, dy);
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dgammaInto != null) Shapes.shape(op, "dgamma", dgammaInto, x.dim(1));
        if (dbetaInto != null) Shapes.shape(op, "dbeta", dbetaInto, x.dim(1));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        Tensor dx = dxInto != null ? dxInto : k.empty(x.shape());
        Tensor dgamma = dgammaInto != null ? dgammaInto : k.empty(c), dbeta = dbetaInto != null ? dbetaInto : k.empty(c);
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);
        Tensor[] inv = {x, dy, gamma, mean, invstd};
        try {
            k.launch(op, inv, "batchnorm_backward_part", new int[]{s, c, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(dy)).ptr(k.ptr(mean)).ptr(k.ptr(invstd))
                            .ptr(ws.address()).i32(c).i32(p).i32(ch[0]).i32(ch[1]));
            k.launch(op, inv, "batchnorm_backward_apply", blockApplyGrid(n, c, p), Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(dy)).ptr(k.ptr(gamma)).ptr(k.ptr(mean)).ptr(k.ptr(invstd))
                            .ptr(ws.address()).ptr(k.ptr(dgamma)).ptr(k.ptr(dbeta)).ptr(k.ptr(dx)).i32(c).i32(p).i32(s)
                            .i64((long) n * p).i32(dxInto != null ? 1 : 0).i32(dgammaInto != null ? 1 : 0)
                            .i32(dbetaInto != null ? 1 : 0));
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}
