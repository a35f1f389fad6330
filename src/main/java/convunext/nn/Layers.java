package convunext.nn;

import convunext.autograd.F;
import convunext.autograd.Tape;
import convunext.autograd.Var;
import java.util.SplittableRandom;

/** The model's leaf layers, each registering its state_dict entries under a name prefix. */
final class Layers {
    private Layers() {}

    /** nn.Conv2d(cin, cout, k, stride, padding, padding_mode). */
    static final class Conv2d {
        final ParamStore.Entry w, b;
        final int stride, pad;
        final boolean reflect;

        Conv2d(ParamStore ps, SplittableRandom rng, String prefix, int cin, int cout, int k, int stride, int pad, boolean reflect) {
            int fanIn = cin * k * k;
            this.w = ps.add(prefix + ".weight", ParamStore.Kind.PARAM, Init.uniform(rng, cout * fanIn, fanIn), cout, cin, k, k);
            this.b = ps.add(prefix + ".bias", ParamStore.Kind.PARAM, Init.uniform(rng, cout, fanIn), cout);
            this.stride = stride;
            this.pad = pad;
            this.reflect = reflect;
        }

        /** A 1×1 stride-1 unpadded conv is a Linear over channels: the backends run their GEMM for it (OpShapes.conv2dIsLinear). */
        Var forward(Tape t, Var x) { return F.conv2d(t, x, w.var(), b.var(), stride, pad, reflect); }
    }

    /** nn.Linear(cin, cout) applied over channels. */
    static final class Linear {
        final ParamStore.Entry w, b;

        Linear(ParamStore ps, SplittableRandom rng, String prefix, int cin, int cout) {
            this.w = ps.add(prefix + ".weight", ParamStore.Kind.PARAM, Init.uniform(rng, cout * cin, cin), cout, cin);
            this.b = ps.add(prefix + ".bias", ParamStore.Kind.PARAM, Init.uniform(rng, cout, cin), cout);
        }

        Var forward(Tape t, Var x) { return F.linear(t, x, w.var(), b.var()); }
    }

    /** Depthwise 7×7 with reflect padding: nn.Conv2d(c, c, 7, padding=3, groups=c, padding_mode='reflect'). */
    static final class DwConv7 {
        final ParamStore.Entry w, b;

        DwConv7(ParamStore ps, SplittableRandom rng, String prefix, int c) {
            this.w = ps.add(prefix + ".weight", ParamStore.Kind.PARAM, Init.uniform(rng, c * 49, 49), c, 1, 7, 7);
            this.b = ps.add(prefix + ".bias", ParamStore.Kind.PARAM, Init.uniform(rng, c, 49), c);
        }

        Var forward(Tape t, Var x) { return F.dwconv7(t, x, w.var(), b.var()); }
    }

    /** BatchNorm2d (eps 1e-5, momentum 0.1) or ConvNeXt's channels-first LayerNorm (eps 1e-6). */
    static final class Norm2d {
        static final float BN_EPS = 1e-5f, BN_MOMENTUM = 0.1f, LN_EPS = 1e-6f;
        final Norm kind;
        final ParamStore.Entry w, b, mean, var, count;

        Norm2d(ParamStore ps, String prefix, int c, Norm kind) {
            this.kind = kind;
            this.w = ps.add(prefix + ".weight", ParamStore.Kind.PARAM, Init.constant(c, 1f), c);
            this.b = ps.add(prefix + ".bias", ParamStore.Kind.PARAM, Init.constant(c, 0f), c);
            if (kind == Norm.BATCH) {
                this.mean = ps.add(prefix + ".running_mean", ParamStore.Kind.RUNNING_MEAN, Init.constant(c, 0f), c);
                this.var = ps.add(prefix + ".running_var", ParamStore.Kind.RUNNING_VAR, Init.constant(c, 1f), c);
                this.count = ps.add(prefix + ".num_batches_tracked", ParamStore.Kind.NUM_BATCHES, new float[] {0});
            } else {
                this.mean = this.var = this.count = null;
            }
        }

        Var forward(Tape t, Var x, boolean train) {
            if (kind == Norm.LAYER) return F.layernorm(t, x, w.var(), b.var(), LN_EPS);
            if (train) {
                count.count++;
                return F.batchnormTrain(t, x, w.var(), b.var(), mean.buffer(), var.buffer(), BN_MOMENTUM, BN_EPS);
            }
            return F.batchnormEval(t, x, w.var(), b.var(), mean.buffer(), var.buffer(), BN_EPS);
        }

        /** forward(dwconv(x)): with BatchNorm in training one backend op (F.dwconv7Batchnorm: CUDA sums the statistics in the convolution's pass). */
        Var forwardOfDwconv(Tape t, DwConv7 dwconv, Var x, boolean train) {
            if (kind == Norm.LAYER || !train) return forward(t, dwconv.forward(t, x), train);
            count.count++;
            return F.dwconv7Batchnorm(t, x, dwconv.w.var(), dwconv.b.var(), w.var(), b.var(), mean.buffer(), var.buffer(),
                    BN_MOMENTUM, BN_EPS);
        }

        /** gelu(res + forward(x)), or gelu(forward(x)) when res is null: with BatchNorm in training one backend op (F.batchnormAddGelu). */
        Var forwardAddGelu(Tape t, Var res, Var x, boolean train) { return forwardAddGelu(t, res, x, train, false); }

        /**
         * As above; statsOut: the result goes to a training BatchNorm next, whose statistics the
         * backend may sum in this op's pass (F.batchnormAddGelu with statsOut; recording tapes only).
         */
        Var forwardAddGelu(Tape t, Var res, Var x, boolean train, boolean statsOut) {
            if (kind == Norm.LAYER || !train) return res == null ? F.gelu(t, forward(t, x, train)) : F.addGelu(t, res, forward(t, x, train));
            count.count++;
            return F.batchnormAddGelu(t, res, x, w.var(), b.var(), mean.buffer(), var.buffer(), BN_MOMENTUM, BN_EPS,
                    statsOut);
        }
    }
}
