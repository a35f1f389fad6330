package convunext.train;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.backend.Precision;
import convunext.tensor.Tensor;

/**
 * The tensor cores' arithmetic on another backend, for `verify`'s format floor ({@link FormatTolerance}):
 * the operands of the products the CUDA backend runs in tensor-core form at --precision tf32/bf16
 * (every linear/GEMM, forward, backward-data and backward-weight; of the dense convolutions the 7×7
 * reflect stem and the 2×2 stride-2 downsampling, Conv2dOps' tensor-core shapes) are rounded with
 * {@link Precision#round} (bit for bit the tensor cores' cvt) before the wrapped backend multiplies
 * them; bias gradients come from the unrounded dy (a plain float sum on the device too), and every
 * other op is the wrapped backend's. On the float64 oracle that is the format's operands with exact
 * accumulation: what the format itself costs, free of any kernel's accumulation order. Tensors are
 * the wrapped backend's. When a kernel gains a tensor-core form, add its op here.
 */
final class RoundedProducts implements Backend {
    final Backend be;
    final Precision p;
    private final Rounding rounding;

    /** How an operand is rounded: {@link Precision#round} of the format, or (in tests) a wrong one. */
    interface Rounding {
        float round(float x);
    }

    RoundedProducts(Backend be, Precision p) {
        this(be, p, p::round);
    }

    /** Reports precision {@code p} but rounds with {@code rounding} (the tests' wrong arithmetic). */
    RoundedProducts(Backend be, Precision p, Rounding rounding) {
        this.be = be;
        this.p = p;
        this.rounding = rounding;
    }

    /** A rounded copy of t (null stays null); the caller releases it. */
    private Tensor r(Tensor t) {
        if (t == null) return null;
        float[] v = be.download(t);
        for (int i = 0; i < v.length; i++) v[i] = rounding.round(v[i]);
        return be.upload(v, t.shape());
    }

    private void free(Tensor... ts) {
        for (Tensor t : ts) if (t != null) be.release(t);
    }

    /** The bias gradient of a backward result computed from the unrounded dy; its weight gradient released. */
    private Tensor unroundedBias(Tensor[] g) {
        free(g[1]);
        return g[2];
    }

    private static boolean tensorCore(Tensor w, int stride, int pad, boolean reflect) {
        int k = w.shape()[2];
        return k == 7 && stride == 1 && pad == 3 && reflect || k == 2 && stride == 2 && pad == 0;
    }

    @Override public String name() { return be.name(); }
    @Override public Precision precision() { return p; }
    @Override public String describe() { return be.describe() + " with " + p + "-rounded product operands"; }
    @Override public Tensor empty(int... shape) { return be.empty(shape); }
    @Override public Tensor zeros(int... shape) { return be.zeros(shape); }
    @Override public Tensor upload(float[] data, int... shape) { return be.upload(data, shape); }
    @Override public float[] download(Tensor t) { return be.download(t); }
    @Override public Tensor view(Tensor base, long offset, int... shape) { return be.view(base, offset, shape); }
    @Override public void release(Tensor t) { be.release(t); }
    @Override public void copy(Tensor src, Tensor dst) { be.copy(src, dst); }
    @Override public void fill(Tensor t, float v) { be.fill(t, v); }
    @Override public void addInPlace(Tensor dst, Tensor src) { be.addInPlace(dst, src); }
    @Override public void sync() { be.sync(); }
    @Override public void close() { be.close(); }

    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        if (!tensorCore(w, stride, pad, reflect)) return be.conv2d(x, w, b, stride, pad, reflect);
        Tensor rx = r(x), rw = r(w);
        try {
            return be.conv2d(rx, rw, b, stride, pad, reflect);
        } finally {
            free(rx, rw);
        }
    }

    @Override public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                             boolean needDx, boolean hasBias) {
        if (!tensorCore(w, stride, pad, reflect)) return be.conv2dBackward(x, w, dy, stride, pad, reflect, needDx, hasBias);
        Tensor rx = r(x), rw = r(w), rdy = r(dy);
        try {
            Tensor[] g = be.conv2dBackward(rx, rw, rdy, stride, pad, reflect, needDx, false);
            if (hasBias) g[2] = unroundedBias(be.conv2dBackward(x, w, dy, stride, pad, reflect, false, true));
            return g;
        } finally {
            free(rx, rw, rdy);
        }
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor b) {
        Tensor rx = r(x), rw = r(w);
        try {
            return be.linear(rx, rw, b);
        } finally {
            free(rx, rw);
        }
    }

    @Override public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        Tensor rx = r(x), rw = r(w), rdy = r(dy);
        try {
            Tensor[] g = be.linearBackward(rx, rw, rdy, needDx, false);
            if (hasBias) g[2] = unroundedBias(be.linearBackward(x, w, dy, false, true));
            return g;
        } finally {
            free(rx, rw, rdy);
        }
    }

    @Override public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre) {
        Tensor rx = r(x), rw = r(w);
        try {
            return be.linearGelu(rx, rw, b, keepPre);
        } finally {
            free(rx, rw);
        }
    }

    @Override public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        Tensor rw = r(w), rdy = r(dy);
        try {
            return be.linearBackwardDataGelu(rw, rdy, pre);
        } finally {
            free(rw, rdy);
        }
    }

    @Override public Tensor dwconv7(Tensor x, Tensor w, Tensor b) { return be.dwconv7(x, w, b); }
    @Override public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) { return be.dwconv7Backward(x, w, dy); }
    @Override public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                             float momentum, float eps) {
        return be.batchnormTrain(x, gamma, beta, runMean, runVar, momentum, eps);
    }
    @Override public Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        return be.batchnormEval(x, gamma, beta, runMean, runVar, eps);
    }
    @Override public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return be.batchnormBackward(x, dy, gamma, mean, invstd);
    }
    @Override public Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps) { return be.layernorm(x, gamma, beta, eps); }
    @Override public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return be.layernormBackward(x, dy, gamma, mean, invstd);
    }
    @Override public Tensor gelu(Tensor x) { return be.gelu(x); }
    @Override public Tensor geluBackward(Tensor x, Tensor dy) { return be.geluBackward(x, dy); }
    @Override public Tensor add(Tensor a, Tensor b) { return be.add(a, b); }
    @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) { return be.addGelu(a, b, keepPre); }
    @Override public Tensor gateIn(Tensor g, Tensor s) { return be.gateIn(g, s); }
    @Override public Tensor gateOut(Tensor a, Tensor s, Tensor g) { return be.gateOut(a, s, g); }
    @Override public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout) { return be.gateOutBackward(a, s, g, dout); }
    @Override public Tensor gateInBackward(Tensor du, int threeC) { return be.gateInBackward(du, threeC); }
    @Override public Tensor upsample2x(Tensor x) { return be.upsample2x(x); }
    @Override public Tensor upsample2xBackward(Tensor dy) { return be.upsample2xBackward(dy); }
    @Override public Tensor pad2d(Tensor x, int top, int bottom, int left, int right) { return be.pad2d(x, top, bottom, left, right); }
    @Override public Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w) { return be.pad2dBackward(dy, top, left, h, w); }
    @Override public Tensor concat(Tensor a, Tensor b) { return be.concat(a, b); }
    @Override public Tensor sliceChannels(Tensor x, int c0, int c1) { return be.sliceChannels(x, c0, c1); }
    @Override public LossResult ceDiceLoss(Tensor logits, Tensor target) { return be.ceDiceLoss(logits, target); }
    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                                float weightDecay, int step) {
        be.adamw(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }
}
