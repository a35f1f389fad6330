package convunext.backend.cuda.ops;

import convunext.backend.cuda.DeviceBuffer;
import convunext.backend.cuda.Kernels;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * Launches batchnorm.cu. Deep levels (few elements per channel, see {@link #fused}): one launch per
 * forward and one per backward, a block per channel. Wide levels: double-precision partial
 * statistics, then one apply kernel whose blocks each finish the channel's statistics themselves
 * (2 launches per forward, 2 per backward). Either way the block's residual GELU can ride along
 * ({@link #batchnormAddGelu}: out = gelu(res + BN(x)), or gelu(BN(x)); its backward takes gelu' in
 * the first pass).
 */
public final class BatchNormOps {
    private static final int EPB = Kernels.BN_EPB;   // elements of one plane per apply block
    private final Launcher k;

    public BatchNormOps(Launcher k) { this.k = k; }

    /** The one-launch rule's bounds (batchnorm.cu's header says why): elements per channel, channels. */
    static final long FUSED_MAX_COUNT = 65536, FUSED_SMALL_COUNT = 16384;
    static final int FUSED_MIN_CHANNELS = 128;

    /**
     * Whether {@code c} channels of {@code count} = N*H*W elements each take the one-launch kernels:
     * count <= 65536 and (c >= 128 or count <= 16384).
     */
    public static boolean fused(long count, int c) {
        return count <= FUSED_MAX_COUNT && (c >= FUSED_MIN_CHANNELS || count <= FUSED_SMALL_COUNT);
    }

    /** Tests: forces the path (null: the rule). */
    static volatile Boolean forceFused;

    /** For tests: forces the one-launch (true) or two-launch (false) path, null for the rule; returns the previous setting. */
    public static Boolean setForceFused(Boolean f) {
        Boolean old = forceFused;
        forceFused = f;
        return old;
    }

    private static boolean useFused(long count, int c) {
        Boolean f = forceFused;
        return f != null ? f : fused(count, c);
    }

    private static void check(String op, Tensor x, Tensor... perChannel) {
        Shapes.rank(op, "x", x, 4);
        for (Tensor t : perChannel) Shapes.shape(op, "per-channel vector", t, x.dim(1));
    }

    private static int[] blockApplyGrid(int n, int c, int p) {
        return new int[]{Launcher.ceilDiv(Math.max(p, 1), EPB), Math.max(c, 1), Math.max(n, 1)};
    }

    public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps) {
        Tensor[] r = train("batchnormTrain", x, false, null, gamma, beta, runMean, runVar, momentum, eps, false, false);
        return new Tensor[]{r[0], r[1], r[2]};
    }

    /**
     * {out = gelu(res + BN(x)) (gelu(BN(x)) when res is null), mean, invstd, pre = the GELU's input
     * (null unless keepPre)}, in the BN's launches.
     */
    public Tensor[] batchnormAddGelu(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                     float momentum, float eps, boolean keepPre) {
        if (res != null) Shapes.same("batchnormAddGelu", x, res);
        return java.util.Arrays.copyOf(train("batchnormAddGelu", x, true, res, gamma, beta, runMean, runVar, momentum, eps,
                keepPre, false), 4);
    }

    /**
     * {@link #batchnormAddGelu} plus the statistics of out for the BatchNorm that reads it next
     * ({@link #batchnormTrainStats}), summed in the kernel that writes out: a [C, S', 4] tensor of S'
     * double pairs per channel (slot 4): on the two-launch path one per apply block (S' = N *
     * ceil(P / BN_EPB)), on the one-launch path one per channel (S' = 1).
     */
    public Tensor[] batchnormAddGeluStats(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                          float momentum, float eps, boolean keepPre) {
        if (res != null) Shapes.same("batchnormAddGelu", x, res);
        return train("batchnormAddGelu", x, true, res, gamma, beta, runMean, runVar, momentum, eps, keepPre, true);
    }

    /** S' of {@link #batchnormAddGeluStats}: the apply grid's blocks per channel. */
    static int statsPairs(int n, int p) {
        int[] g = blockApplyGrid(n, 1, p);
        return g[0] * g[2];
    }

    /**
     * batchnormTrain of x with its statistics already summed ({@code stats} from
     * {@link #batchnormAddGeluStats} of the op that produced x, or null: {@link #batchnormTrain}):
     * batchnorm_forward_apply alone on either path (on the one-launch one its grid instead of a
     * block per channel), its partials the producer's S' pairs per channel.
     */
    public Tensor[] batchnormTrainStats(Tensor x, Tensor stats, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                        float momentum, float eps) {
        if (stats == null) return batchnormTrain(x, gamma, beta, runMean, runVar, momentum, eps);
        String op = "batchnormTrainStats";
        check(op, x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2), s = stats.rank() == 3 ? stats.dim(1) : -1;
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        Shapes.require(s == 1 || s == statsPairs(n, p), op, "stats " + stats.shapeString() + " are not of x " + x.shapeString());
        Shapes.shape(op, "stats", stats, c, s, 4);
        Tensor y = k.empty(x.shape()), mean = k.empty(c), invstd = k.empty(c);
        if (c == 0) return new Tensor[]{y, mean, invstd};   // no channels: no launch (blockApplyGrid's y would be 1)
        Kernels.batchnorm_forward_apply(k.at(op, new Tensor[]{x, stats, gamma, beta, runMean, runVar, y, mean, invstd},
                        blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                .x(k.ptr(x)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).partial(k.ptr(stats))
                .mean(k.ptr(mean)).invstd(k.ptr(invstd)).runMean(k.ptr(runMean)).runVar(k.ptr(runVar))
                .gelu(0).res(0L).pre(0L).C(c).P(p).S(s).count((long) n * p).momentum(momentum).eps(eps).ostats(0L).launch();
        return new Tensor[]{y, mean, invstd};
    }

    private Tensor[] train(String op, Tensor x, boolean gelu, Tensor res, Tensor gamma, Tensor beta, Tensor runMean,
                           Tensor runVar, float momentum, float eps, boolean keepPre, boolean statsOut) {
        check(op, x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        Tensor y = k.empty(x.shape()), mean = k.empty(c), invstd = k.empty(c);
        Tensor pre = gelu && keepPre ? k.empty(x.shape()) : null;
        Tensor[] inv = {x, res, gamma, beta, runMean, runVar, y, mean, invstd, pre};
        if (c == 0) return new Tensor[]{y, mean, invstd, pre, statsOut ? k.empty(0, 1, 4) : null};   // no channels: no launch
        if (useFused((long) n * p, c)) {
            Tensor ostats = statsOut ? k.empty(c, 1, 4) : null;   // one double pair per channel
            Kernels.batchnorm_forward_fused(k.at(op, inv, new int[]{c, 1, 1}, new int[]{Kernels.BN_FUSED_THREADS, 1, 1}, 0))
                    .x(k.ptr(x)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                    .runMean(k.ptr(runMean)).runVar(k.ptr(runVar)).gelu(gelu ? 1 : 0).res(k.ptrOrNull(res)).pre(k.ptrOrNull(pre))
                    .N(n).C(c).P(p).momentum(momentum).eps(eps).ostats(k.ptrOrNull(ostats)).launch();
            return new Tensor[]{y, mean, invstd, pre, ostats};
        }
        Tensor ostats = statsOut ? k.empty(c, statsPairs(n, p), 4) : null;   // S' double pairs per channel
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);   // 2 doubles per (c, chunk)
        try {
            Kernels.batchnorm_forward_stats_part(k.at(op, inv, new int[]{s, c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Kernels.batchnorm_forward_apply(k.at(op, inv, blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                    .x(k.ptr(x)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).partial(ws.address())
                    .mean(k.ptr(mean)).invstd(k.ptr(invstd)).runMean(k.ptr(runMean)).runVar(k.ptr(runVar))
                    .gelu(gelu ? 1 : 0).res(k.ptrOrNull(res)).pre(k.ptrOrNull(pre))
                    .C(c).P(p).S(s).count((long) n * p).momentum(momentum).eps(eps).ostats(k.ptrOrNull(ostats)).launch();
        } finally {
            k.free(ws);
        }
        return new Tensor[]{y, mean, invstd, pre, ostats};
    }

    /**
     * {z = dwconv7(x, w, b), BN(z), mean, invstd}: training BatchNorm of the depthwise convolution's
     * output with the statistics summed in dwconv7_forward's epilogue, so the BN is its apply kernel
     * alone (S = 1 partial per channel) on either path: no statistics pass over z, and on the
     * one-launch path the apply's grid instead of one block per channel.
     */
    public Tensor[] dwconv7Batchnorm(DwConv7Ops dw, Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta,
                                     Tensor runMean, Tensor runVar, float momentum, float eps) {
        String op = "dwconv7Batchnorm";
        check(op, x, gamma, beta, runMean, runVar);
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        // no channels: no launch (dwconv7Stats refuses the empty z, blockApplyGrid's y would be 1)
        if (c == 0) return new Tensor[]{k.empty(x.shape()), k.empty(x.shape()), k.empty(0), k.empty(0)};
        DeviceBuffer stats = k.workspace(4L * c);   // 2 doubles per channel
        try {
            Tensor z = dw.dwconv7Stats(op, x, w, b, stats.address());
            Tensor y = k.empty(z.shape()), mean = k.empty(c), invstd = k.empty(c);
            Kernels.batchnorm_forward_apply(k.at(op, new Tensor[]{z, gamma, beta, runMean, runVar, y, mean, invstd},
                            blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                    .x(k.ptr(z)).y(k.ptr(y)).gamma(k.ptr(gamma)).beta(k.ptr(beta)).partial(stats.address())
                    .mean(k.ptr(mean)).invstd(k.ptr(invstd)).runMean(k.ptr(runMean)).runVar(k.ptr(runVar))
                    .gelu(0).res(0L).pre(0L).C(c).P(p).S(1).count((long) n * p).momentum(momentum).eps(eps).ostats(0L).launch();
            return new Tensor[]{z, y, mean, invstd};
        } finally {
            k.free(stats);
        }
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
        Tensor[] r = backward("batchnormBackward", x, dy, null, gamma, mean, invstd, dxInto, dgammaInto, dbetaInto);
        return new Tensor[]{r[1], r[2], r[3]};
    }

    /**
     * The backward of {@link #batchnormAddGelu}: dout is the gradient of out, pre the saved sum.
     * Returns {dres = dout * gelu'(pre) (added into dresInto when non-null), dx, dgamma, dbeta}; d
     * is computed in the BN's first pass and is the BN's dy.
     */
    public Tensor[] batchnormAddGeluBackwardInto(Tensor x, Tensor dout, Tensor pre, Tensor gamma, Tensor mean,
                                                 Tensor invstd, Tensor dresInto, Tensor dxInto, Tensor dgammaInto,
                                                 Tensor dbetaInto) {
        Shapes.same("batchnormAddGeluBackward", x, pre);
        Tensor[] r = backward("batchnormAddGeluBackward", x, dout, pre, gamma, mean, invstd, dxInto, dgammaInto, dbetaInto);
        if (dresInto != null) {   // not in the model (the residual's gradient starts here), kept correct
            Shapes.same("batchnormAddGeluBackward", x, dresInto);
            k.addInPlace("batchnormAddGeluBackward", dresInto, r[0]);
            k.release(r[0]);
            r[0] = dresInto;
        }
        return r;
    }

    /** {dpre (null without pre), dx, dgamma, dbeta}. */
    private Tensor[] backward(String op, Tensor x, Tensor dy, Tensor pre, Tensor gamma, Tensor mean, Tensor invstd,
                              Tensor dxInto, Tensor dgammaInto, Tensor dbetaInto) {
        check(op, x, gamma, mean, invstd);
        Shapes.same(op, x, dy);
        if (dxInto != null) Shapes.same(op, x, dxInto);
        if (dgammaInto != null) Shapes.shape(op, "dgamma", dgammaInto, x.dim(1));
        if (dbetaInto != null) Shapes.shape(op, "dbeta", dbetaInto, x.dim(1));
        int n = x.dim(0), c = x.dim(1), p = x.spatial(2);
        Shapes.require((long) n * p > 0, op, "empty batch " + x.shapeString());
        Tensor dx = dxInto != null ? dxInto : k.empty(x.shape());
        Tensor dgamma = dgammaInto != null ? dgammaInto : k.empty(c), dbeta = dbetaInto != null ? dbetaInto : k.empty(c);
        Tensor dpre = pre != null ? k.empty(x.shape()) : null;
        Tensor[] inv = {x, dy, pre, gamma, mean, invstd, dx, dgamma, dbeta, dpre};
        int accDx = dxInto != null ? 1 : 0, accGamma = dgammaInto != null ? 1 : 0, accBeta = dbetaInto != null ? 1 : 0;
        if (c == 0) return new Tensor[]{dpre, dx, dgamma, dbeta};   // no channels: no launch
        if (useFused((long) n * p, c)) {
            Kernels.batchnorm_backward_fused(k.at(op, inv, new int[]{c, 1, 1}, new int[]{Kernels.BN_FUSED_THREADS, 1, 1}, 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).pre(k.ptrOrNull(pre)).dpre(k.ptrOrNull(dpre)).gamma(k.ptr(gamma))
                    .mean(k.ptr(mean)).invstd(k.ptr(invstd)).dgamma(k.ptr(dgamma)).dbeta(k.ptr(dbeta)).dx(k.ptr(dx))
                    .N(n).C(c).P(p).accDx(accDx).accGamma(accGamma).accBeta(accBeta).launch();
            return new Tensor[]{dpre, dx, dgamma, dbeta};
        }
        int[] ch = Launcher.chunks(n, c, p);
        int s = n * ch[0];
        DeviceBuffer ws = k.workspace((long) c * s * 4);
        try {
            Kernels.batchnorm_backward_part(k.at(op, inv, new int[]{s, c, 1}, Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(dy)).pre(k.ptrOrNull(pre)).dpre(k.ptrOrNull(dpre)).mean(k.ptr(mean))
                    .invstd(k.ptr(invstd)).partial(ws.address()).C(c).P(p).cpi(ch[0]).L(ch[1]).launch();
            Tensor d = dpre != null ? dpre : dy;   // the BN's dy: written by the part kernel with the GELU
            Kernels.batchnorm_backward_apply(k.at(op, inv, blockApplyGrid(n, c, p), Launcher.block1D(), 0))
                    .x(k.ptr(x)).dy(k.ptr(d)).gamma(k.ptr(gamma)).mean(k.ptr(mean)).invstd(k.ptr(invstd))
                    .partial(ws.address()).dgamma(k.ptr(dgamma)).dbeta(k.ptr(dbeta)).dx(k.ptr(dx))
                    .C(c).P(p).S(s).count((long) n * p).accDx(accDx).accGamma(accGamma).accBeta(accBeta)
                    .launch();
        } finally {
            k.free(ws);
        }
        return new Tensor[]{dpre, dx, dgamma, dbeta};
    }
}
