package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/** Launches layernorm.cu: a thread per pixel over C; parameter gradients by channel reduction. */
public final class LayerNormOps {
    private final Launcher k;

    public LayerNormOps(Launcher k) { this.k = k; }

    public Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        String op = "layernorm";
        Shapes.rank(op, "x", x, 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), p = h * w;
        Shapes.shape(op, "gamma", gamma, c);
        Shapes.shape(op, "beta", beta, c);
        Tensor y = k.empty(x.shape()), mean = k.empty(n, h, w), invstd = k.empty(n, h, w);
        if ((long) n * p == 0) return new Tensor[]{y, mean, invstd};
        Kernels.layernorm_forward(k.at(op, new Tensor[]{x, gamma, beta},
                        new int[]{Launcher.ceilDiv(p, Launcher.THREADS), n, 1}, Launcher.block1D(), 0))
                .x(k.ptr(x)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).y(k.ptr(y)).mean(k.ptr(mean))
                .invstd(k.ptr(invstd)).C(c).P(p).eps(eps).launch();
        return new Tensor[]{y, mean, invstd};
    }

    public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        String op = "layernormBackward";
        Shapes.rank(op, "x", x, 4);
        Shapes.same(op, x, dy);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), p = h * w;
        Shapes.shape(op, "gamma", gamma, c);
        Shapes.shape(op, "mean", mean, n, h, w);
        Shapes.shape(op, "invstd", invstd, n, h, w);
        Tensor dx = k.empty(x.shape()), dgamma = k.empty(c), dbeta = k.empty(c);
        Tensor[] inv = {x, dy, gamma, mean, invstd};
        if (c == 0) return new Tensor[]{dx, dgamma, dbeta};   // no channels: nothing to compute (Launcher.chunks would divide by N*C)
        if ((long) n * p == 0) {
            k.memsetZero(k.ptr(dgamma), c * 4L);
            k.memsetZero(k.ptr(dbeta), c * 4L);
            return new Tensor[]{dx, dgamma, dbeta};
        }
        Kernels.layernorm_backward_data(k.at(op, inv, new int[]{Launcher.ceilDiv(p, Launcher.THREADS), n, 1},
                        Launcher.block1D(), 0))
                .x(k.ptr(x)).dy(k.ptr(dy)).gamma(k.ptr(gamma)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                .dx(k.ptr(dx)).C(c).P(p).launch();
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);
        try {
            Kernels.layernorm_backward_params_part(k.at(op, inv, new int[]{s, c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                    .partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Kernels.layernorm_backward_params(k.at(op, inv, new int[]{c, 1, 1}, Launcher.block1D(), 0))
                    .partial(ws.address()).dgamma(k.ptr(dgamma)).dbeta(k.ptr(dbeta)).S(s).launch();
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}
