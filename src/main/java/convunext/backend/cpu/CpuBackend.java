package convunext.backend.cpu;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.tensor.Shapes;
import convunext.tensor.Tensor;

/**
 * The float32 CPU backend: storage is a {@code float[]} per tensor (views share it at an
 * offset); released arrays are cached for reuse by {@link CpuArrayPool}, and each op lives in
 * its own class, Cpu&lt;Stem&gt; after its stem in {@link convunext.backend.Op} (CpuConv2d, CpuLinear
 * over CpuGemm, CpuLinearGelu, CpuDwConv7, CpuBatchNorm, CpuLayerNorm, CpuGelu, CpuAddGelu, CpuAdd,
 * CpuGate, CpuUpsample, CpuLayout, CpuLoss, CpuAdamW), threaded through {@link CpuThreads}.
 */
public final class CpuBackend implements Backend {

    private final CpuArrayPool pool;

    public CpuBackend() { this(CpuArrayPool.fromProperties()); }

    CpuBackend(CpuArrayPool pool) { this.pool = pool; }

    @Override public String name() { return "cpu"; }

    @Override public String describe() {
        return "cpu: float32, GEMM " + CpuGemm.describe() + ", " + CpuThreads.threads() + " threads, array pool ≤ "
                + (pool.maxBytes() >> 20) + " MiB" + (pool.poison() ? " (poison)" : "")
                + (AlignedScratch.knownOffset() == 0 ? ", kernel scratch not 64-byte aligned (needs G1, regions ≤ 4 MiB)"
                        : AlignedScratch.aligned ? "" : ", kernel scratch alignment off");
    }

    // ------------------------------------------------------------------ memory

    private static int size(int... shape) {
        long n = Shapes.numel(shape);
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("cpu: tensor " + java.util.Arrays.toString(shape) + " too large");
        for (int d : shape) if (d < 0) throw new IllegalArgumentException("cpu: negative dimension in " + java.util.Arrays.toString(shape));
        return (int) n;
    }

    /** Contents undefined: a reused array holds old values (NaN under convunext.cpu.poison). */
    @Override public Tensor empty(int... shape) { return pool.own(new Tensor(this, pool.take(size(shape), false), AlignedScratch.at(), shape)); }

    @Override public Tensor zeros(int... shape) { return pool.own(new Tensor(this, pool.take(size(shape), true), AlignedScratch.at(), shape)); }

    @Override public Tensor upload(float[] data, int... shape) {
        int n = size(shape);
        Shapes.require(data.length == n, "upload", "data has " + data.length + " values for shape " + java.util.Arrays.toString(shape));
        float[] a = pool.take(n, false);
        int at = AlignedScratch.at();   // where the pool's arrays align (see CpuArrayPool.PAD)
        System.arraycopy(data, 0, a, at, n);
        return pool.own(new Tensor(this, a, at, shape));
    }

    @Override public float[] download(Tensor t) {
        float[] out = new float[t.size()];
        System.arraycopy(t.array(), t.off(), out, 0, out.length);
        return out;
    }

    @Override public Tensor view(Tensor base, long offset, int... shape) {
        long n = Shapes.numel(shape);
        Shapes.require(offset >= 0 && offset + n <= base.numel(), "view",
                "offset " + offset + " + " + java.util.Arrays.toString(shape) + " outside " + base.shapeString());
        return new Tensor(this, base.array(), base.offset() + offset, shape);
    }

    /** Returns a tensor's array to the pool; views are ignored, a second release throws. */
    @Override public void release(Tensor t) {
        if (t.owner() != this) throw new IllegalArgumentException("release: tensor " + t + " is not from this backend");
        pool.give(t);
    }

    /** Drops the cached arrays (the backend stays usable). */
    @Override public void close() { pool.clear(); }

    @Override public void copy(Tensor src, Tensor dst) {
        Shapes.require(src.numel() == dst.numel(), "copy", "sizes differ: " + src.shapeString() + " vs " + dst.shapeString());
        System.arraycopy(src.array(), src.off(), dst.array(), dst.off(), src.size());
    }

    @Override public void fill(Tensor t, float v) { java.util.Arrays.fill(t.array(), t.off(), t.off() + t.size(), v); }

    @Override public void addInPlace(Tensor dst, Tensor src) { CpuAdd.addInPlace(dst, src); }

    // ------------------------------------------------------------------ ops

    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect) {
        return CpuConv2d.forward(this, x, w, b, stride, pad, reflect);
    }

    @Override public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                             boolean needDx, boolean hasBias) {
        return CpuConv2d.backward(this, x, w, dy, stride, pad, reflect, needDx, hasBias);
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor b) { return CpuLinear.forward(this, x, w, b); }

    @Override public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias) {
        return CpuLinear.backward(this, x, w, dy, needDx, hasBias);
    }

    @Override public Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) { return CpuLinearCat.forward(this, a, b, w, bias); }

    @Override public Tensor[] linearCatBackward(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                                boolean hasBias) {
        return CpuLinearCat.backward(this, a, b, w, dy, needDa, needDb, hasBias);
    }

    @Override public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre) {
        return CpuLinearGelu.forward(this, x, w, b, keepPre, SimdOps.BEST);
    }

    @Override public Tensor[] mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep) {
        return CpuMlp.forward(this, x, w1, b1, w2, b2, keep, SimdOps.BEST);
    }

    @Override public Tensor mlpAddGelu(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor res) {
        return CpuMlp.forwardAddGelu(this, x, w1, b1, w2, b2, res, SimdOps.BEST);
    }

    @Override public Tensor[] mlpBackward(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                          boolean hasB1, boolean hasB2) {
        return CpuMlp.backward(this, x, w1, w2, gy, h, s, needDx, hasB1, hasB2, SimdOps.BEST);
    }

    @Override public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        return CpuLinearGelu.backwardData(this, w, dy, pre, SimdOps.BEST);
    }

    @Override public Tensor dwconv7(Tensor x, Tensor w, Tensor b) { return CpuDwConv7.forward(this, x, w, b); }

    @Override public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) { return CpuDwConv7.backward(this, x, w, dy); }

    @Override public Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                             float momentum, float eps) {
        return CpuBatchNorm.batchnormTrain(this, x, gamma, beta, runMean, runVar, momentum, eps);
    }

    /** Each gradient added into its held one in the backward's own pass (CpuDwConv7), not by a second pass. */
    @Override public Tensor[] dwconv7BackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        return CpuDwConv7.backward(this, x, w, dy, dxInto, dwInto, dbInto);
    }

    /** z's planes of a channel, then BN over them while they are in cache (CpuDwConv7.forwardBatchnorm). */
    @Override public Tensor[] dwconv7Batchnorm(Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                               float momentum, float eps) {
        if (!fusedDwconv7Batchnorm) return Backend.super.dwconv7Batchnorm(x, w, b, gamma, beta, runMean, runVar, momentum, eps);
        return CpuDwConv7.forwardBatchnorm(this, x, w, b, gamma, beta, runMean, runVar, momentum, eps);
    }

    /** Whether dwconv7Batchnorm and its backward run fused (false: the interface's composition; benchmarks compare). */
    static volatile boolean fusedDwconv7Batchnorm = true;

    /** BN's dz made plane by plane inside the convolution's backward (CpuDwConv7.backwardOfBatchnorm), never in memory. */
    @Override public Tensor[] dwconv7BatchnormBackwardInto(Tensor x, Tensor w, Tensor z, Tensor gy, Tensor gamma, Tensor mean,
                                                           Tensor invstd, Tensor dxInto, Tensor dwInto, Tensor dbInto,
                                                           Tensor dgammaInto, Tensor dbetaInto) {
        if (!fusedDwconv7Batchnorm)
            return Backend.super.dwconv7BatchnormBackwardInto(x, w, z, gy, gamma, mean, invstd, dxInto, dwInto, dbInto, dgammaInto, dbetaInto);
        return CpuDwConv7.backwardOfBatchnorm(this, x, w, z, gy, gamma, mean, invstd, dxInto, dwInto, dbInto, dgammaInto, dbetaInto);
    }

    @Override public Tensor[] batchnormAddGelu(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                              float momentum, float eps, boolean keepPre) {
        return CpuBatchNorm.batchnormAddGelu(this, x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
    }

    @Override public Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps) {
        return CpuBatchNorm.batchnormEval(this, x, gamma, beta, runMean, runVar, eps);
    }

    @Override public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return CpuBatchNorm.batchnormBackward(this, x, dy, gamma, mean, invstd);
    }

    @Override public Tensor[] batchnormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd, Tensor dxInto,
                                                   Tensor dgammaInto, Tensor dbetaInto) {
        return CpuBatchNorm.batchnormBackwardInto(this, x, dy, gamma, mean, invstd, dxInto, dgammaInto, dbetaInto);
    }

    @Override public Tensor batchnormAddGeluSaved(Tensor pre) { return CpuBatchNorm.geluSlope(this, pre); }

    @Override public Tensor[] batchnormAddGeluBackwardInto(Tensor x, Tensor dout, Tensor pre, Tensor gamma, Tensor mean,
                                                          Tensor invstd, Tensor dresInto, Tensor dxInto, Tensor dgammaInto,
                                                          Tensor dbetaInto) {
        return CpuBatchNorm.batchnormAddGeluBackwardInto(this, x, dout, pre, gamma, mean, invstd, dresInto, dxInto, dgammaInto,
                dbetaInto);
    }

    @Override public Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return CpuLayerNorm.layernorm(this, x, gamma, beta, eps);
    }

    @Override public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd) {
        return CpuLayerNorm.layernormBackward(this, x, dy, gamma, mean, invstd);
    }

    @Override public Tensor gelu(Tensor x) { return CpuGelu.gelu(this, x); }

    @Override public Tensor geluBackward(Tensor x, Tensor dy) { return CpuGelu.geluBackward(this, x, dy); }

    @Override public Tensor add(Tensor a, Tensor b) { return CpuAdd.add(this, a, b); }

    /** Per block of pixels in cache where the chain is memory-bound (CpuGate.trainChainApplies), else the composition. */
    @Override public Tensor[] gateChainTrain(Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2,
                                             Tensor wc, Tensor bc) {
        if (!CpuGate.trainChainApplies(skip)) return Backend.super.gateChainTrain(low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
        return CpuGate.chainTrain(this, low, skip, gw, gb, w1, b1, w2, b2, wc, bc, SimdOps.BEST);
    }

    /** In one pass over pixel blocks where the four weight gradients' accumulators fit (CpuGateBwd.applies), else the composition. */
    @Override public Tensor[] gateChainCatBackward(Tensor low, Tensor skip, Tensor[] saved, Tensor[] w, Tensor gy, boolean[] bias,
                                                   boolean needLow, boolean needSkip, Tensor[] into) {
        if (w == null || w.length != 4 || w[3] == null || !CpuGateBwd.applies(skip, w[3], needLow))
            return Backend.super.gateChainCatBackward(low, skip, saved, w, gy, bias, needLow, needSkip, into);
        return CpuGateBwd.backward(this, low, skip, saved, w, gy, bias, needSkip, into, SimdOps.BEST);
    }

    /** Per block of pixels in cache where the chain is memory-bound (CpuGate.chainApplies), else the composition. */
    @Override public Tensor gateChain(Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2,
                                      Tensor wc, Tensor bc) {
        if (!CpuGate.chainApplies(skip)) return Backend.super.gateChain(low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
        return CpuGate.chain(this, low, skip, gw, gb, w1, b1, w2, b2, wc, bc, SimdOps.BEST);
    }

    @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre) {
        return CpuAddGelu.addGelu(this, a, b, keepPre, SimdOps.BEST);
    }

    @Override public Tensor gateIn(Tensor g, Tensor s) { return CpuGate.gateIn(this, g, s); }

    @Override public Tensor gateOut(Tensor a, Tensor s, Tensor g) { return CpuGate.gateOut(this, a, s, g); }

    @Override public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout) {
        return CpuGate.gateOutBackward(this, a, s, g, dout);
    }

    @Override public Tensor gateInBackward(Tensor du, int threeC) { return CpuGate.gateInBackward(this, du, threeC); }

    @Override public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto) {
        return CpuGate.gateInBackwardInto(this, du, threeC, dgInto, null);
    }

    @Override public Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto, Tensor dsInto) {
        return CpuGate.gateInBackwardInto(this, du, threeC, dgInto, dsInto);
    }

    @Override public Tensor upsample2x(Tensor x) { return CpuUpsample.upsample2x(this, x); }

    @Override public Tensor upsample2xBackward(Tensor dy) { return CpuUpsample.upsample2xBackward(this, dy); }

    @Override public Tensor pad2d(Tensor x, int top, int bottom, int left, int right) {
        return CpuLayout.pad2d(this, x, top, bottom, left, right);
    }

    @Override public Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w) {
        return CpuLayout.pad2dBackward(this, dy, top, left, h, w);
    }

    @Override public Tensor concat(Tensor a, Tensor b) { return CpuLayout.concat(this, a, b); }

    @Override public Tensor sliceChannels(Tensor x, int c0, int c1) { return CpuLayout.sliceChannels(this, x, c0, c1); }

    @Override public LossResult ceDiceLoss(Tensor logits, Tensor target) { return CpuLoss.ceDice(this, logits, target); }

    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                float eps, float weightDecay, int step) {
        CpuAdamW.step(p, g, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }
}
