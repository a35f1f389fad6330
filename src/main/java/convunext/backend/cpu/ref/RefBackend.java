package convunext.backend.cpu.ref;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * A slow, exact backend: float32 tensors on the heap ({@code float[]} storage, honouring
 * {@link Tensor#offset}); every op widens its inputs to float64, runs the Ref* oracle and rounds
 * the result once to float32. Accepts any tensor whose storage is a {@code float[]}.
 */
public final class RefBackend implements Backend {

    @Override public String name() { return "ref"; }

    @Override public String describe() {
        return "ref: float64 oracle (plain single-threaded loops), float32 tensors on the Java heap";
    }

    // ------------------------------------------------------------------ conversions

    /** The tensor's elements widened to float64. */
    public static D toD(Tensor t) {
        return t == null ? null : D.fromFloats(t.array(), t.off(), t.shape());
    }

    /** A new tensor of this backend holding {@code d} rounded to float32. */
    public Tensor fromD(D d) {
        return d == null ? null : new Tensor(this, d.toFloats(), 0, d.shape);
    }

    private Tensor[] fromD(D[] ds) {
        Tensor[] r = new Tensor[ds.length];
        for (int i = 0; i < ds.length; i++) r[i] = fromD(ds[i]);
        return r;
    }

    /** Rounds {@code d} into the existing tensor {@code t} (same number of elements), in place. */
    private static void writeBack(D d, Tensor t) {
        float[] a = t.array();
        int off = t.off();
        for (int i = 0; i < d.data.length; i++) a[off + i] = (float) d.data[i];
    }

    // ------------------------------------------------------------------ memory

    @Override public Tensor empty(int... shape) { return zeros(shape); }

    @Override public Tensor zeros(int... shape) {
        long n = Shapes.numel(shape);
        Shapes.require(n <= Integer.MAX_VALUE, "zeros", "too many elements for a CPU array: " + n);
        return new Tensor(this, new float[(int) n], 0, shape);
    }

    @Override public Tensor upload(float[] data, int... shape) {
        Shapes.require(data.length == Shapes.numel(shape), "upload",
                data.length + " values for shape " + java.util.Arrays.toString(shape));
        return new Tensor(this, data.clone(), 0, shape);
    }

    @Override public float[] download(Tensor t) {
        float[] r = new float[t.size()];
        System.arraycopy(t.array(), t.off(), r, 0, r.length);
        return r;
    }

    @Override public Tensor view(Tensor base, long offset, int... shape) {
        long n = Shapes.numel(shape);
        Shapes.require(offset >= 0 && offset + n <= base.numel(), "view",
                "offset " + offset + " + " + n + " elements outside base " + base.shapeString());
        return new Tensor(this, base.array(), base.offset() + offset, shape);
    }

    @Override public void release(Tensor t) {
        // Heap memory: the garbage collector reclaims it.
    }

    @Override public void copy(Tensor src, Tensor dst) {
        Shapes.require(src.numel() == dst.numel(), "copy", "sizes differ: " + src.shapeString() + " vs " + dst.shapeString());
        System.arraycopy(src.array(), src.off(), dst.array(), dst.off(), src.size());
    }

    @Override public void fill(Tensor t, float v) {
        java.util.Arrays.fill(t.array(), t.off(), t.off() + t.size(), v);
    }

    @Override public void addInPlace(Tensor dst, Tensor src) {
        D d = toD(dst);
        RefAdd.addInPlace(d, toD(src));
        writeBack(d, dst);
    }

    // ------------------------------------------------------------------ ops

    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        return fromD(RefConv2d.conv2d(toD(x), toD(w), toD(b), stride, pad, reflect));
    }

    @Override public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                             boolean needDx, boolean hasBias) {
        return fromD(RefConv2d.conv2dBackward(toD(x), toD(w), toD(dy), stride, pad, reflect, needDx, hasBias));
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor b) {
        return fromD(RefLinear.linear(toD(x), toD(w), toD(b)));
    }

    @Override public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        return fromD(RefLinear.linearBackward(toD(x), toD(w), toD(dy), needDx, hasBias));
    }

    @Override public Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) {
        return fromD(RefLinearCat.linearCat(toD(a), toD(b), toD(w), toD(bias)));
    }

    @Override public Tensor[] linearCatBackward(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                                boolean hasBias) {
        return fromD(RefLinearCat.linearCatBackward(toD(a), toD(b), toD(w), toD(dy), needDa, needDb, hasBias));
    }

    @Override public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre) {
        return fromD(RefLinearGelu.linearGelu(toD(x), toD(w), toD(b), keepPre));
    }

    @Override public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        return fromD(RefLinearGelu.linearBackwardDataGelu(toD(w), toD(dy), toD(pre)));
    }

    @Override public Tensor[] mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep) {
        return fromD(RefMlp.mlp(toD(x), toD(w1), toD(b1), toD(w2), toD(b2), keep));
    }

    @Override public Tensor[] mlpBackward(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                          boolean hasB1, boolean hasB2) {
        return fromD(RefMlp.mlpBackward(toD(x), toD(w1), toD(w2), toD(gy), toD(h), toD(s), needDx, hasB1, hasB2));
    }

    @Override public Tensor dwconv7(Tensor x, Tensor w, Tensor b) {
        return fromD(RefDwConv7.dwconv7(toD(x), toD(w), toD(b)));
    }

    @Override public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) {
        return fromD(RefDwConv7.dwconv7Backward(toD(x), toD(w), toD(dy)));
    }

    @Override public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                             float momentum, float eps) {
        D rm = toD(runMean), rv = toD(runVar);
        D[] r = RefBatchNorm.batchnormTrain(toD(x), toD(gamma), toD(beta), rm, rv, momentum, eps);
        if (runMean != null) writeBack(rm, runMean);
        if (runVar != null) writeBack(rv, runVar);
        return fromD(r);
    }

    @Override public Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        return fromD(RefBatchNorm.batchnormEval(toD(x), toD(gamma), toD(beta), toD(runMean), toD(runVar), eps));
    }

    @Override public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return fromD(RefBatchNorm.batchnormBackward(toD(x), toD(dy), toD(gamma), toD(mean), toD(invstd)));
    }

    @Override public Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return fromD(RefLayerNorm.layernorm(toD(x), toD(gamma), toD(beta), eps));
    }

    @Override public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return fromD(RefLayerNorm.layernormBackward(toD(x), toD(dy), toD(gamma), toD(mean), toD(invstd)));
    }

    @Override public Tensor gelu(Tensor x) {
        return fromD(RefGelu.gelu(toD(x)));
    }

    @Override public Tensor geluBackward(Tensor x, Tensor dy) {
        return fromD(RefGelu.geluBackward(toD(x), toD(dy)));
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        return fromD(RefAdd.add(toD(a), toD(b)));
    }

    @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) {
        return fromD(RefAddGelu.addGelu(toD(a), toD(b), keepPre));
    }

    @Override public Tensor gateIn(Tensor g, Tensor s) {
        return fromD(RefGate.gateIn(toD(g), toD(s)));
    }

    @Override public Tensor gateOut(Tensor a, Tensor s, Tensor g) {
        return fromD(RefGate.gateOut(toD(a), toD(s), toD(g)));
    }

    @Override public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout) {
        return fromD(RefGate.gateOutBackward(toD(a), toD(s), toD(g), toD(dout)));
    }

    @Override public Tensor gateInBackward(Tensor du, int threeC) {
        return fromD(RefGate.gateInBackward(toD(du), threeC));
    }

    @Override public Tensor upsample2x(Tensor x) {
        return fromD(RefUpsample.upsample2x(toD(x)));
    }

    @Override public Tensor upsample2xBackward(Tensor dy) {
        return fromD(RefUpsample.upsample2xBackward(toD(dy)));
    }

    @Override public Tensor pad2d(Tensor x, int top, int bottom, int left, int right) {
        return fromD(RefLayout.pad2d(toD(x), top, bottom, left, right));
    }

    @Override public Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w) {
        return fromD(RefLayout.pad2dBackward(toD(dy), top, left, h, w));
    }

    @Override public Tensor concat(Tensor a, Tensor b) {
        return fromD(RefLayout.concat(toD(a), toD(b)));
    }

    @Override public Tensor sliceChannels(Tensor x, int c0, int c1) {
        return fromD(RefLayout.sliceChannels(toD(x), c0, c1));
    }

    /** {@code dice} is the Dice term 1 − mean soft Dice, so loss = ce + dice (see {@link RefLoss}). */
    @Override public LossResult ceDiceLoss(Tensor logits, Tensor target) {
        RefLoss.Result r = RefLoss.ceDiceLoss(toD(logits), toD(target));
        return new LossResult(r.loss(), r.ce(), r.dice(), fromD(r.dlogits()));
    }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                float eps, float weightDecay, int step) {
        D pd = toD(p), md = toD(m), vd = toD(v);
        RefAdamW.adamw(pd, toD(g), md, vd, lr, beta1, beta2, eps, weightDecay, step);
        writeBack(pd, p);
        writeBack(md, m);
        writeBack(vd, v);
    }
}
