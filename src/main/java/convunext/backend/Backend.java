package convunext.backend;

import convunext.tensor.Owner;
import convunext.tensor.Tensor;

/**
 * Every op of ConvUNeXt, forward and backward, on one device. Tensors are float32, NCHW
 * (see {@link Tensor}). Every backend (CPU, CUDA on a GPU or the emulator) is tested against the
 * float64 oracle {@code convunext.backend.cpu.ref.RefBackend} ({@code convunext.backend.parity}
 * in the tests); {@link Op} lists each op's pieces, {@link OpShapes} its shape rules.
 *
 * <p>Conventions for every method:
 * <ul>
 *   <li>Results are freshly allocated tensors owned by the caller, who may {@link #release} them.
 *       Inputs are never modified unless the method says "in place".</li>
 *   <li>Backward methods return gradients (never accumulate); a {@code null} entry means "not
 *       requested". Array results are documented as {@code {a, b, c}}.</li>
 *   <li>A shape mismatch throws IllegalArgumentException naming the op and the shapes.</li>
 *   <li>Per-channel parameters (bias, gamma, beta, running stats) are rank-1 [C].</li>
 *   <li>Empty extents (N, a channel count or H·W = 0) are valid and give empty sums' values: a
 *       product over Ci = 0 inputs is its bias; its dx and dw are 0 and db is still Σ dy. Training
 *       BatchNorm over N·H·W ≤ 1 values is refused; LayerNorm over C = 0 saves NaN statistics
 *       (see each). Every backend agrees (parity: *DegenerateParityTest).</li>
 * </ul>
 * Spec references: PyTorch docs for Conv2d, BatchNorm2d, Linear, F.gelu (exact erf form),
 * F.interpolate(bilinear, align_corners=True), F.pad, F.cross_entropy(ignore_index); the loss and
 * the LayerNorm follow {@code reference/convunext_torch.py}.
 */
public interface Backend extends Owner, AutoCloseable {

    /** Short name: "cpu", "cuda", "emulated", "ref". */
    @Override String name();

    /** The precision of the matrix products (--precision); FP32 unless the CUDA backend was opened otherwise. */
    default Precision precision() { return Precision.FP32; }

    /** One line on what runs (kernels, accelerators, threads) for `info` and logs. */
    String describe();

    // ------------------------------------------------------------------ memory

    /** Uninitialised tensor: contents undefined (pooled memory; use {@link #zeros} when accumulating). */
    Tensor empty(int... shape);

    Tensor zeros(int... shape);

    /** Copies {@code data} (length = product of shape) into a new tensor. */
    Tensor upload(float[] data, int... shape);

    /** Copies the tensor to a new host array. */
    float[] download(Tensor t);

    /** A view of {@code numel(shape)} elements of {@code base} starting {@code offset} elements in. */
    Tensor view(Tensor base, long offset, int... shape);

    /** Returns the tensor's memory to the backend (pooled on devices). Views are ignored. */
    void release(Tensor t);

    /** dst ← src (same number of elements). */
    void copy(Tensor src, Tensor dst);

    /** t ← v everywhere, in place. */
    void fill(Tensor t, float v);

    /** dst ← dst + src, in place (same number of elements). */
    void addInPlace(Tensor dst, Tensor src);

    /** Waits for queued work (no-op on the CPU). */
    default void sync() {}

    /**
     * Marks one run of repeated work — a training step, an inference tile, a verify step — whose
     * device work may be captured and replayed as a whole (the CUDA backend's CUDA Graphs, when the
     * same work repeats with the same shapes and buffers; see backend.cuda.StepGraphs); close the
     * scope at its end. Read results (a download, a loss value) after closing it: a read inside
     * ends the capture or replay for that run, which is then simply executed. Other backends, and
     * nested scopes, do nothing.
     */
    default StepScope step(String key) { return StepScope.NONE; }

    /** The end of a {@link #step} scope (no checked exception). */
    interface StepScope extends AutoCloseable {
        StepScope NONE = () -> {};

        @Override void close();
    }

    /**
     * Device memory high-water marks since the last {@link #resetDeviceMemoryPeak}: {bytes handed
     * to tensors and workspaces (like torch.cuda.max_memory_allocated), bytes held from the driver
     * by the caching pool (like max_memory_reserved)}; null where tensors live on the Java heap.
     */
    default long[] deviceMemoryPeak() { return null; }

    /** Starts a new high-water mark at the current usage (no-op without device memory). */
    default void resetDeviceMemoryPeak() {}

    /**
     * A timer on device events (the caller closes it), or null where work runs on the calling
     * threads and wall time around {@link #sync} is the measure (the CPU).
     */
    default EventTimer eventTimer() { return null; }

    @Override default void close() {}

    // ------------------------------------------------------------------ conv2d

    /**
     * Dense 2-D convolution (cross-correlation as PyTorch). x [N,Ci,H,W], w [Co,Ci,k,k],
     * b [Co] or null; output [N,Co,(H+2p-k)/s+1,(W+2p-k)/s+1]. {@code reflect} pads by reflection
     * (PyTorch padding_mode='reflect', requires p &lt; H and p &lt; W), else by zeros.
     * Used for the 7×7 reflect stem, the 2×2 stride-2 downsampling and 1×1 convolutions.
     */
    Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int pad, boolean reflect);

    /** {dx (null unless needDx), dw, db (null if hasBias is false)}. */
    Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                            boolean needDx, boolean hasBias);

    /**
     * conv2dBackward adding into gradients already held: each non-null {@code *Into} receives
     * += its gradient and comes back in its slot; a null slot is computed as conv2dBackward
     * computes it (fresh). The tape passes a variable's gradient when it has one (a parameter's
     * slice of the zeroed flat gradient, or an activation used twice), so no separate add runs.
     * The default composes conv2dBackward with addInPlace; a backend may fuse the add.
     */
    default Tensor[] conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, int stride, int pad, boolean reflect,
                                        boolean needDx, boolean hasBias, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        return addInto(this, conv2dBackward(x, w, dy, stride, pad, reflect, needDx || dxInto != null, hasBias),
                dxInto, dwInto, dbInto);
    }

    // ------------------------------------------------------------------ linear (1x1 over channels)

    /**
     * nn.Linear applied over the channel axis of NCHW: x [N,Ci,H,W], w [Co,Ci], b [Co] or null;
     * y[n,o,p] = b[o] + Σ_i w[o,i]·x[n,i,p]. A GEMM per image: M=Co, K=Ci, N=H·W.
     */
    Tensor linear(Tensor x, Tensor w, Tensor b);

    /** {dx (null unless needDx), dw [Co,Ci], db [Co] (null if hasBias is false)}. */
    Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias);

    /** linearBackward adding into gradients already held (as {@link #conv2dBackwardInto}). */
    default Tensor[] linearBackwardInto(Tensor x, Tensor w, Tensor dy, boolean needDx, boolean hasBias,
                                        Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        return addInto(this, linearBackward(x, w, dy, needDx || dxInto != null, hasBias), dxInto, dwInto, dbInto);
    }

    /**
     * Linear then exact GELU in one pass over the output (the GELU is the GEMM's epilogue):
     * pre = linear(x, w, b), h = gelu(pre). Returns {h, pre}; pre is written only when
     * {@code keepPre} (training: GELU's backward needs it), else null. ConvNeXt's
     * pwconv1 → GELU, which saves a read of the 4C-channel tensor (and its write in inference).
     */
    Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keepPre);

    /**
     * Grad-input of a Linear whose input was gelu(pre), through that GELU, in one pass (the GELU
     * derivative is the GEMM's epilogue): dpre = (wᵀ·dy) ⊙ gelu'(pre). w [Co,Ci],
     * dy [N,Co,H,W], pre [N,Ci,H,W] → dpre [N,Ci,H,W]. ConvNeXt's pwconv2 backward → GELU backward.
     */
    Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre);

    // ------------------------------------------------------------------ linearCat (linear over two inputs' channels)

    /**
     * linear(concat(a, b), w, bias) without the concatenated tensor: a [N,Ca,H,W], b [N,Cb,H,W]
     * (Ca, Cb ≥ 1), w [Co,Ca+Cb] (or [Co,Ca+Cb,1,1]), bias [Co] or null:
     * y = w[:, :Ca]·a + w[:, Ca:]·b + bias. The decoder's Conv1×1(cat[skip', low]). This default
     * composes {@link #concat} and {@link #linear}; a backend may read both inputs in one GEMM.
     */
    default Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) {
        Tensor x = concat(a, b);
        try {
            return linear(x, w, bias);
        } finally {
            release(x);
        }
    }

    /**
     * {da (null unless needDa), db (null unless needDb), dw (w's shape), dbias (null unless
     * hasBias)}. The default composes concat, linearBackward and concatBackward.
     */
    default Tensor[] linearCatBackward(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                       boolean hasBias) {
        Tensor x = concat(a, b);
        Tensor[] r;
        try {
            r = linearBackward(x, w, dy, needDa || needDb, hasBias);
        } finally {
            release(x);
        }
        Tensor[] d = {null, null};
        if (r[0] != null) {
            d = concatBackward(r[0], a.dim(1));
            release(r[0]);
            if (!needDa) { release(d[0]); d[0] = null; }
            if (!needDb) { release(d[1]); d[1] = null; }
        }
        return new Tensor[] {d[0], d[1], r[1], r[2]};
    }

    /** linearCatBackward adding into gradients already held (as {@link #conv2dBackwardInto}). */
    default Tensor[] linearCatBackwardInto(Tensor a, Tensor b, Tensor w, Tensor dy, boolean needDa, boolean needDb,
                                           boolean hasBias, Tensor daInto, Tensor dbInto, Tensor dwInto, Tensor dbiasInto) {
        return addInto(this, linearCatBackward(a, b, w, dy, needDa || daInto != null, needDb || dbInto != null, hasBias),
                daInto, dbInto, dwInto, dbiasInto);
    }

    // ------------------------------------------------------------------ MLP (pwconv1 → GELU → pwconv2)

    /**
     * ConvNeXt's MLP over channels, y = w2·gelu(w1·x + b1) + b2: x [N,C,H,W], w1 [Hd,C],
     * w2 [Co,Hd], b1 [Hd] / b2 [Co] or null → {y [N,Co,H,W], h, s}. With {@code keep} (training)
     * h = gelu(w1·x + b1) [N,Hd,H,W] and s [N,Hd,H,W], the backend's saved state for
     * {@link #mlpBackward} (this default keeps pre = w1·x + b1; the CPU keeps gelu'(pre)); without,
     * h and s are null. A backend may run both layers per block of pixels so that the Hd-channel
     * hidden tensor stays in cache (it is not written at all in inference).
     */
    default Tensor[] mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep) {
        Tensor[] hp = linearGelu(x, w1, b1, keep);
        Tensor y = linear(hp[0], w2, b2);
        if (keep) return new Tensor[] {y, hp[0], hp[1]};
        release(hp[0]);
        return new Tensor[] {y, null, null};
    }

    /**
     * Gradients of {@link #mlp} from gy [N,Co,H,W] and its saved h and s: {dx (null unless needDx),
     * dw1, db1 (null unless hasB1), dw2, db2 (null unless hasB2)}.
     */
    default Tensor[] mlpBackward(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                 boolean hasB1, boolean hasB2) {
        Tensor[] r2 = linearBackward(h, w2, gy, false, hasB2);
        Tensor dpre = linearBackwardDataGelu(w2, gy, s);
        try {
            Tensor[] r1 = linearBackward(x, w1, dpre, needDx, hasB1);
            return new Tensor[] {r1[0], r1[1], r1[2], r2[1], r2[2]};
        } finally {
            release(dpre);
        }
    }

    /**
     * gelu(res + mlp(x)) with nothing saved (inference): a ConvNeXt block's output where norm2 is
     * folded into pwconv2, res [N,Co,H,W] the block's input. The default composes {@link #mlp} and
     * {@link #addGelu} (the same bits as calling them); a backend may apply the residual and GELU
     * while each tile of the second GEMM is in cache, so y never goes to memory and back.
     */
    default Tensor mlpAddGelu(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor res) {
        OpShapes.mlpAddGelu(OpShapes.of(x), OpShapes.of(w1), OpShapes.of(b1), OpShapes.of(w2), OpShapes.of(b2), OpShapes.of(res));
        Tensor y = mlp(x, w1, b1, w2, b2, false)[0];
        try {
            return addGelu(res, y, false)[0];
        } finally {
            release(y);
        }
    }

    /**
     * mlpBackward adding into gradients already held (as {@link #conv2dBackwardInto}): {dx, dw1,
     * db1, dw2, db2}, each non-null {@code *Into} receiving += its gradient and coming back in its
     * slot. The default composes mlpBackward with addInPlace; a backend may add in its kernels.
     */
    default Tensor[] mlpBackwardInto(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean needDx,
                                     boolean hasB1, boolean hasB2, Tensor dxInto, Tensor dw1Into, Tensor db1Into,
                                     Tensor dw2Into, Tensor db2Into) {
        return addInto(this, mlpBackward(x, w1, w2, gy, h, s, needDx || dxInto != null, hasB1, hasB2),
                dxInto, dw1Into, db1Into, dw2Into, db2Into);
    }

    // ------------------------------------------------------------------ depthwise 7x7

    /** Depthwise 7×7, reflect padding 3, stride 1: x [N,C,H,W] (H,W ≥ 4), w [C,1,7,7], b [C]. */
    Tensor dwconv7(Tensor x, Tensor w, Tensor b);

    /** {dx, dw [C,1,7,7], db [C]}. */
    Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy);

    /** dwconv7Backward adding into gradients already held (as {@link #conv2dBackwardInto}). */
    default Tensor[] dwconv7BackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dxInto, Tensor dwInto, Tensor dbInto) {
        return addInto(this, dwconv7Backward(x, w, dy), dxInto, dwInto, dbInto);
    }

    /**
     * dwconv7 then training BatchNorm of its output (the ConvNeXt block's dwconv and norm1):
     * {z = dwconv7(x, w, b), batchnormTrain(z) = {y, mean, invstd}...} as {z, y, mean, invstd}. A
     * backend may sum the BN statistics in the convolution's pass (CUDA: dwconv7_forward's
     * epilogue); the gradients: {@link #dwconv7BatchnormBackwardInto}.
     */
    default Tensor[] dwconv7Batchnorm(Tensor x, Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor runMean,
                                      Tensor runVar, float momentum, float eps) {
        Tensor z = dwconv7(x, w, b);
        Tensor[] bn = batchnormTrain(z, gamma, beta, runMean, runVar, momentum, eps);
        return new Tensor[]{z, bn[0], bn[1], bn[2]};
    }

    /**
     * The backward of {@link #dwconv7Batchnorm}: gy is the gradient of y = batchnormTrain(z), z =
     * dwconv7(x, w, b) as that op returned it, mean and invstd its statistics. Returns {dx, dw, db,
     * dgamma, dbeta}, each added into its held gradient where one is given (as
     * {@link #conv2dBackwardInto}). Default: the two ops' backwards, BN's into a fresh dz, then
     * dwconv7's of dz; a backend may make dz plane by plane inside the convolution's backward (CPU).
     */
    default Tensor[] dwconv7BatchnormBackwardInto(Tensor x, Tensor w, Tensor z, Tensor gy, Tensor gamma, Tensor mean,
                                                  Tensor invstd, Tensor dxInto, Tensor dwInto, Tensor dbInto,
                                                  Tensor dgammaInto, Tensor dbetaInto) {
        Tensor[] bn = batchnormBackwardInto(z, gy, gamma, mean, invstd, null, dgammaInto, dbetaInto);
        try {
            Tensor[] d = dwconv7BackwardInto(x, w, bn[0], dxInto, dwInto, dbInto);
            return new Tensor[]{d[0], d[1], d[2], bn[1], bn[2]};
        } finally {
            release(bn[0]);
        }
    }

    // ------------------------------------------------------------------ normalisation

    /**
     * BatchNorm2d in training mode over (N,H,W) per channel: y = γ·(x−μ)·invstd + β with the
     * biased batch variance, invstd = 1/sqrt(var+eps). In place on the running stats:
     * running_mean ← (1−m)·running_mean + m·μ; running_var ← (1−m)·running_var + m·var·n/(n−1).
     * Returns {y, mean [C], invstd [C]}. N·H·W ≤ 1 is refused (as in its fusions and backward):
     * PyTorch raises for one value; for none it returns an empty y, but μ and var are then 0/0.
     */
    Tensor[] batchnormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                            float momentum, float eps);

    /** BatchNorm2d in eval mode: y = γ·(x−running_mean)/sqrt(running_var+eps) + β. */
    Tensor batchnormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float eps);

    /** Backward of batchnormTrain (batch statistics). {dx, dgamma, dbeta}. */
    Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd);

    /** batchnormBackward adding into gradients already held (as {@link #conv2dBackwardInto}). */
    default Tensor[] batchnormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd,
                                           Tensor dxInto, Tensor dgammaInto, Tensor dbetaInto) {
        return addInto(this, batchnormBackward(x, dy, gamma, mean, invstd), dxInto, dgammaInto, dbetaInto);
    }

    /**
     * Training BatchNorm followed by the ConvNeXt block's residual GELU: out = gelu(res + BN(x))
     * (norm2 and {@link #addGelu} in one op, so a backend can apply both in the BN's pass); res may
     * be null: out = gelu(BN(x)) (the stem's norm and GELU).
     * Returns {out, mean [C], invstd [C], saved (null unless keepPre)}: saved is what this backend's
     * {@link #batchnormAddGeluBackwardInto} takes back, the GELU's input pre by default, or another
     * form of it a backend says in {@link #batchnormAddGeluSaved} (CPU: GELU's slope gelu'(pre)).
     */
    default Tensor[] batchnormAddGelu(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                      float momentum, float eps, boolean keepPre) {
        Tensor[] bn = batchnormTrain(x, gamma, beta, runMean, runVar, momentum, eps);
        if (res == null) {
            Tensor out = gelu(bn[0]);
            if (keepPre) return new Tensor[]{out, bn[1], bn[2], bn[0]};
            release(bn[0]);
            return new Tensor[]{out, bn[1], bn[2], null};
        }
        try {
            Tensor[] ag = addGelu(res, bn[0], keepPre);
            return new Tensor[]{ag[0], bn[1], bn[2], ag[1]};
        } finally {
            release(bn[0]);
        }
    }

    /**
     * {@link #batchnormAddGelu} whose caller passes out to another training BatchNorm next: returns
     * {out, mean, invstd, pre, stats}, stats the statistics of out summed in the same pass (an
     * opaque tensor only this backend's {@link #batchnormTrainStats} reads) or null. Default: null
     * (the next BN sums them itself); CUDA: on the two-launch path, from the apply's epilogue.
     */
    default Tensor[] batchnormAddGeluStats(Tensor x, Tensor res, Tensor gamma, Tensor beta, Tensor runMean,
                                           Tensor runVar, float momentum, float eps, boolean keepPre) {
        Tensor[] r = batchnormAddGelu(x, res, gamma, beta, runMean, runVar, momentum, eps, keepPre);
        return new Tensor[]{r[0], r[1], r[2], r[3], null};
    }

    /**
     * {@link #batchnormTrain} of x given {@code stats} from {@link #batchnormAddGeluStats} of the op
     * that produced x (null: the statistics are summed here). Same results up to the order of the
     * statistics' sums. Default: batchnormTrain (stats ignored).
     */
    default Tensor[] batchnormTrainStats(Tensor x, Tensor stats, Tensor gamma, Tensor beta, Tensor runMean,
                                         Tensor runVar, float momentum, float eps) {
        return batchnormTrain(x, gamma, beta, runMean, runVar, momentum, eps);
    }

    /**
     * The form in which {@link #batchnormAddGelu} keeps the GELU's input pre for its backward, made
     * from pre (a fresh tensor): pre's copy by default. For tests and tools that hand the backward a
     * pre of their own; a backend that keeps another form overrides both.
     */
    default Tensor batchnormAddGeluSaved(Tensor pre) {
        Tensor t = empty(pre.shape());
        copy(pre, t);
        return t;
    }

    /**
     * Backward of {@link #batchnormAddGelu} (dout: the gradient of out; pre: its saved tensor, see
     * {@link #batchnormAddGeluSaved}): d = geluBackward(pre, dout) is the residual's gradient and the BN's dy. Returns {dres, dx,
     * dgamma, dbeta}, each added into its non-null *Into (as {@link #batchnormBackwardInto}); dres
     * is d itself (a fresh tensor the caller owns) without dresInto, also when there was no res.
     */
    default Tensor[] batchnormAddGeluBackwardInto(Tensor x, Tensor dout, Tensor pre, Tensor gamma, Tensor mean,
                                                  Tensor invstd, Tensor dresInto, Tensor dxInto, Tensor dgammaInto,
                                                  Tensor dbetaInto) {
        Tensor d = geluBackward(pre, dout);
        Tensor[] r = batchnormBackwardInto(x, d, gamma, mean, invstd, dxInto, dgammaInto, dbetaInto);
        if (dresInto == null) return new Tensor[]{d, r[0], r[1], r[2]};
        addInPlace(dresInto, d);
        release(d);
        return new Tensor[]{dresInto, r[0], r[1], r[2]};
    }

    /**
     * Channels-first LayerNorm (ConvNeXt): at each (n,y,x), normalise over C with the biased
     * variance, y = γ·(x−μ)·invstd + β. Returns {y, mean [N,H,W], invstd [N,H,W]}; with C = 0,
     * y is empty and mean and invstd are NaN (torch.mean over an empty dimension).
     */
    Tensor[] layernorm(Tensor x, Tensor gamma, Tensor beta, float eps);

    /** {dx, dgamma, dbeta}. */
    Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd);

    /** layernormBackward adding into gradients already held (as {@link #conv2dBackwardInto}). */
    default Tensor[] layernormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invstd,
                                           Tensor dxInto, Tensor dgammaInto, Tensor dbetaInto) {
        return addInto(this, layernormBackward(x, dy, gamma, mean, invstd), dxInto, dgammaInto, dbetaInto);
    }

    // ------------------------------------------------------------------ elementwise

    /** Exact GELU: x·Φ(x) = 0.5·x·(1+erf(x/√2)). */
    Tensor gelu(Tensor x);

    Tensor geluBackward(Tensor x, Tensor dy);

    /** a + b (same shape). */
    Tensor add(Tensor a, Tensor b);

    /**
     * Residual add then exact GELU in one pass: pre = a + b, out = gelu(pre) (same shape).
     * Returns {out, pre}; pre is written only when {@code keepPre} (training: GELU's backward
     * needs it), else null. ConvNeXt's block output gelu(x + norm2(·)): unfused, add writes the
     * sum and gelu reads it back; fused, a and b are read once and out (plus pre when training)
     * written, which saves the sum's read (and its write in inference). Backward needs no op of
     * its own: geluBackward(pre, dy) is the gradient of both a and b.
     */
    Tensor[] addGelu(Tensor a, Tensor b, boolean keepPre);

    // ------------------------------------------------------------------ gated skip attention

    /**
     * First half of the gate: g [N,3C,H,W] is Linear(C→3C) of the low path, s [N,C,H,W] the skip.
     * u = g[:, 0:C] + s.
     */
    Tensor gateIn(Tensor g, Tensor s);

    /**
     * Second half: a = Linear1(u) [N,C,H,W]; out = σ(a)⊙s + σ(g[:,C:2C])⊙tanh(g[:,2C:3C]).
     */
    Tensor gateOut(Tensor a, Tensor s, Tensor g);

    /**
     * Backward of gateOut: {da, ds, dg} where dg is [N,3C,H,W] with channels 0..C-1 zero.
     * (gateIn's backward is a copy: dg[:,0:C] = du, ds = du; see {@link #gateInBackward}.)
     */
    Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor dout);

    /**
     * The Up block's 1×1 chain at inference, from the upsampled low path and the skip (both
     * [N,C,H,W]): g = linear(low, gw, gb) [N,3C,H,W]; s = gateOut(linear(gateIn(g, skip), w1, b1),
     * skip, g); y = linearCat(linear(s, w2, b2), low, wc, bc) [N,Co,H,W]; with w2 null (b2 null)
     * y = linearCat(s, low, wc, bc): linear2 folded into wc's first C columns (InferenceModel).
     * This default is those calls; a backend may run the chain per block of pixels so that g, u, a
     * and s stay in cache (nothing of the chain is saved: inference only).
     */
    default Tensor gateChain(Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2,
                             Tensor wc, Tensor bc) {
        return GateChainComposed.inference(this, low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
    }

    /**
     * The Up block's chain in training: {g, u, a, s, s2, y} = {linear(low, gw, gb), gateIn(g, skip),
     * linear(u, w1, b1), gateOut(a, skip, g), linear(s, w2, b2), linearCat(s2, low, wc, bc)}, the
     * first five kept for the backward ({@link #gateChainCatBackward}); wc null (bc null): no y
     * (null). This default is those calls; a backend may run them per block of pixels, each
     * written once and read back from cache (CPU).
     */
    default Tensor[] gateChainTrain(Tensor low, Tensor skip, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2,
                                    Tensor wc, Tensor bc) {
        return GateChainComposed.train(this, low, skip, gw, gb, w1, b1, w2, b2, wc, bc);
    }

    /**
     * The backward of the Up block's chain in training, {@link #gateChainTrain} (saved = its {g, u,
     * a, s, s2}) then {@link #linearCat}(s2, low, wc, bc), from gy = ∂L/∂y; w = {gw, w1, w2, wc},
     * bias = which of {gb, b1, b2, bc} exist. Returns {dlow, dskip, dgw, dgb, dw1, db1, dw2, db2,
     * dwc, dbc}, each added into its entry of {@code into} (10, each may be null: the gradients
     * already held) and returned in its place, as the six ops' backwards one by one add them; null
     * where not needed. Default: those calls ({@link GateChainComposed}); the CPU runs them per block.
     */
    default Tensor[] gateChainCatBackward(Tensor low, Tensor skip, Tensor[] saved, Tensor[] w, Tensor gy, boolean[] bias,
                                          boolean needLow, boolean needSkip, Tensor[] into) {
        return GateChainComposed.backward(this, low, skip, saved, w, gy, bias, needLow, needSkip, into);
    }

    /** Backward of gateIn: returns dg [N,3C,H,W] = (du, 0, 0) over channel blocks; ds = du is the caller's. */
    Tensor gateInBackward(Tensor du, int threeC);

    /**
     * gateInBackward adding into a gradient already held: dgInto [N,3C,H,W] gets du added to its
     * channels 0..C-1 (the others are unchanged) and is returned; null computes it fresh.
     */
    default Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto) {
        return addInto(this, new Tensor[]{gateInBackward(du, threeC)}, dgInto)[0];
    }

    /**
     * gateInBackwardInto that also adds du into the skip's held gradient dsInto (non-null): the
     * skip's gradient ds = du without a pass of its own.
     */
    default Tensor gateInBackwardInto(Tensor du, int threeC, Tensor dgInto, Tensor dsInto) {
        Tensor dg = gateInBackwardInto(du, threeC, dgInto);
        addInPlace(dsInto, du);
        return dg;
    }

    // ------------------------------------------------------------------ resampling and layout

    /** Bilinear ×2 upsampling with align_corners=True: [N,C,H,W] → [N,C,2H,2W]. */
    Tensor upsample2x(Tensor x);

    /** Adjoint of upsample2x: dy [N,C,2H,2W] → dx [N,C,H,W]. */
    Tensor upsample2xBackward(Tensor dy);

    /** Zero padding: [N,C,H,W] → [N,C,H+top+bottom,W+left+right] (all ≥ 0). */
    Tensor pad2d(Tensor x, int top, int bottom, int left, int right);

    /** Adjoint of pad2d (a crop): dy → dx [N,C,H,W] taken at (top,left). */
    Tensor pad2dBackward(Tensor dy, int top, int left, int h, int w);

    /** Channel concat: a [N,Ca,H,W], b [N,Cb,H,W] → [N,Ca+Cb,H,W]. */
    Tensor concat(Tensor a, Tensor b);

    /** Channels [c0,c1) of x: [N,C,H,W] → [N,c1−c0,H,W] (the adjoint of concat). */
    Tensor sliceChannels(Tensor x, int c0, int c1);

    /** Both halves of concat's adjoint: dy [N,Ca+Cb,H,W] → {channels [0,ca), channels [ca,Ca+Cb)}. */
    default Tensor[] concatBackward(Tensor dy, int ca) {
        return new Tensor[]{sliceChannels(dy, 0, ca), sliceChannels(dy, ca, dy.dim(1))};
    }

    // ------------------------------------------------------------------ loss

    /** The target value of an ignored pixel (PyTorch's ignore_index in the reference recipe). */
    int IGNORE_INDEX = 255;

    /**
     * Cross-entropy (mean over non-ignored pixels, ignore index {@value #IGNORE_INDEX}) + 1 − mean over classes of
     * soft Dice (softmax probabilities; per image and class, ignored pixels removed;
     * dice = (2·Σp·t + 1e-6)/(Σp + Σt + 1e-6), Σp+Σt = 0 replaced by 2·Σp·t; averaged over images,
     * then classes). logits [N,K,H,W]; target [N,H,W] holding class indices as floats ({@value #IGNORE_INDEX} =
     * ignore). Returns the loss and d loss / d logits in one pass.
     */
    LossResult ceDiceLoss(Tensor logits, Tensor target);

    // ------------------------------------------------------------------ optimiser

    /**
     * One torch.optim.AdamW step, in place over whole tensors (flat buffers):
     * p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
     * p ← p − lr·(m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps). {@code step} is t ≥ 1.
     */
    void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
               float eps, float weightDecay, int step);

    /**
     * The default of the {@code *Into} backward ops: r[i] += nothing when into[i] is null (kept as
     * computed), else into[i] += r[i], r[i] released and replaced by into[i].
     */
    private static Tensor[] addInto(Backend be, Tensor[] r, Tensor... into) {
        for (int i = 0; i < into.length; i++) {
            if (into[i] == null) continue;
            if (r[i] == null) throw new IllegalArgumentException("gradient " + i + " into " + into[i].shapeString()
                    + " was not computed");
            be.addInPlace(into[i], r[i]);
            be.release(r[i]);
            r[i] = into[i];
        }
        return r;
    }
}
