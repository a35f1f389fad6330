package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches batchnorm.cu: double-precision partial statistics, then one apply kernel whose blocks
 * each finish the channel's statistics themselves (2 launches per forward, 2 per backward).
 */
public final class BatchNormOps {
    private static final int EPB = Kernels.BN_EPB;   // elements of one plane per apply block
    private final Launcher k;

    public BatchNormOps(Launcher k) { this.k = k; }

    private static void check(String op, Tensor x, Tensor... perChannel) {
        Shapes.rank(op, "x", x, 4);
        for (Tensor t : perChannel) Shapes.shape(op, "per-channel vector", t, x.dim(1));
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
        Tensor[] inv = {x, gamma, beta, runMean, runVar, y, mean, invstd};
        try {
            Kernels.batchnorm_forward_stats_part(k.at(op, inv, new int[]{s, c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Kernels.batchnorm_forward_apply(k.at(op, inv, blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).partial(ws.address())
                    .mean(k.ptr(mean)).invstd(k.ptr(invstd)).runMean(k.ptr(runMean)).runVar(k.ptr(runVar))
                    .C(c).P(p).S(s).count((long) n * p).momentum(momentum).eps(eps).launch();
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
        Kernels.batchnorm_forward_eval(k.at(op, new Tensor[]{x, gamma, beta, runMean, runVar, y}, blockApplyGrid(n, c, p),
                        Launcher.block1D(), 0))
                .x(k.ptr(x)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).runMean(k.ptr(runMean))
                .runVar(k.ptr(runVar)).eps(eps).C(c).P(p).launch();
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
        Tensor[] inv = {x, dy, gamma, mean, invstd, dx, dgamma, dbeta};
        try {
            Kernels.batchnorm_backward_part(k.at(op, inv, new int[]{s, c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                    .partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Kernels.batchnorm_backward_apply(k.at(op, inv, blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).gamma(k.ptr(gamma)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                    .partial(ws.address()).dgamma(k.ptr(dgamma)).dbeta(k.ptr(dbeta)).dx(k.ptr(dx))
                    .C(c).P(p).S(s).count((long) n * p)
                    .accDx(dxInto != null ? 1 : 0).accGamma(dgammaInto != null ? 1 : 0).accBeta(dbetaInto != null ? 1 : 0)
                    .launch();
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}
