package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.KernelArgs;
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
        k.launch(op, new Tensor[]{x, gamma, beta}, "layernorm_forward",
                new int[]{Launcher.ceilDiv(p, Launcher.THREADS), n, 1}, Launcher.block1D(), 0,
                new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(gamma)).ptr(k.ptr(beta)).ptr(k.ptr(y)).ptr(k.ptr(mean))
                        .ptr(k.ptr(invstd)).i32(c).i32(p).f32(eps));
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
        if ((long) n * p == 0) {
            k.device().memsetZero(k.ptr(dgamma), c * 4L);
            k.device().memsetZero(k.ptr(dbeta), c * 4L);
            return new Tensor[]{dx, dgamma, dbeta};
        }
        k.launch(op, inv, "layernorm_backward_data", new int[]{Launcher.ceilDiv(p, Launcher.THREADS), n, 1},
                Launcher.block1D(), 0,
                new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(dy)).ptr(k.ptr(gamma)).ptr(k.ptr(mean)).ptr(k.ptr(invstd))
                        .ptr(k.ptr(dx)).i32(c).i32(p));
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);
        try {
            k.launch(op, inv, "layernorm_backward_params_part", new int[]{s, c, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(k.ptr(x)).ptr(k.ptr(dy)).ptr(k.ptr(mean)).ptr(k.ptr(invstd))
                            .ptr(ws.address()).i32(c).i32(p).i32(ch[0]).i32(ch[1]));
            k.launch(op, inv, "layernorm_backward_params", new int[]{c, 1, 1}, Launcher.block1D(), 0,
                    new KernelArgs().ptr(ws.address()).ptr(k.ptr(dgamma)).ptr(k.ptr(dbeta)).i32(s));
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}
