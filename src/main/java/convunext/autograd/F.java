package convunext.autograd;

import convunext.backend.Backend;
import convunext.tensor.Tensor;

/**
 * The differentiable ops: each runs its forward on the tape's backend and records a backward that
 * saves only what it needs. A backward never hands {@code gradOut} itself to
 * {@link Tape#accumulate} (the tape frees it afterwards); it passes fresh tensors, or the input's
 * own gradient when the backend added into it ({@code Backend.*Into} with {@link Tape#gradSink}:
 * parameters' slices of the flat gradient and activations used twice get no separate add pass).
 */
public final class F {
    private F() {}

    private static Tensor valueOf(Var x) { return x == null ? null : x.value; }

    private static boolean needsGrad(Var x) { return x != null && x.requiresGrad; }

    public static Var conv2d(Tape t, Var x, Var w, Var b, int stride, int pad, boolean reflect) {
        Backend be = t.backend();
        Tensor y = be.conv2d(x.value, w.value, valueOf(b), stride, pad, reflect);
        return t.record(y, gy -> {
            Tensor[] r = be.conv2dBackwardInto(x.value, w.value, gy, stride, pad, reflect, needsGrad(x), b != null,
                    t.gradSink(x), t.gradSink(w), t.gradSink(b));
            t.accumulate(x, r[0]);
            t.accumulate(w, r[1]);
            t.accumulate(b, r[2]);
        }, x, w, b);
    }

    public static Var linear(Tape t, Var x, Var w, Var b) {
        Backend be = t.backend();
        Tensor y = be.linear(x.value, w.value, valueOf(b));
        return t.record(y, gy -> {
            Tensor[] r = be.linearBackwardInto(x.value, w.value, gy, needsGrad(x), b != null,
                    t.gradSink(x), t.gradSink(w), t.gradSink(b));
            t.accumulate(x, r[0]);
            t.accumulate(w, r[1]);
            t.accumulate(b, r[2]);
        }, x, w, b);
    }

    /**
     * linear(concat(a, b), w, bias) as one backend op ({@link Backend#linearCat}): no concatenated
     * tensor, and its gradient goes straight into a's and b's (added where they are held). w may
     * be a 1×1 conv weight [Co,Ca+Cb,1,1]: the Up block's Conv1×1(cat[skip', low]).
     */
    public static Var linearCat(Tape t, Var a, Var b, Var w, Var bias) {
        Backend be = t.backend();
        Tensor y = be.linearCat(a.value, b.value, w.value, valueOf(bias));
        return t.record(y, gy -> {
            Tensor[] r = be.linearCatBackwardInto(a.value, b.value, w.value, gy, needsGrad(a), needsGrad(b), bias != null,
                    t.gradSink(a), t.gradSink(b), t.gradSink(w), t.gradSink(bias));
            t.accumulate(a, r[0]);
            t.accumulate(b, r[1]);
            t.accumulate(w, r[2]);
            t.accumulate(bias, r[3]);
        }, a, b, w, bias);
    }

    /**
     * ConvNeXt's pointwise MLP, linear(gelu(linear(x, w1, b1)), w2, b2), as one backend op
     * ({@link Backend#mlp}, {@link Backend#mlpBackward}: the CPU runs both layers per block of
     * pixels). Saves the hidden GELU output and the backend's state for the GELU's derivative.
     */
    public static Var mlp(Tape t, Var x, Var w1, Var b1, Var w2, Var b2) {
        Backend be = t.backend();
        boolean rec = t.recording();
        Tensor[] r = be.mlp(x.value, w1.value, valueOf(b1), w2.value, valueOf(b2), rec);
        if (!rec) return t.record(r[0], gy -> {});
        Tensor h = t.own(r[1]), s = t.own(r[2]);
        return t.record(r[0], gy -> {
            // gradients added where they are produced (a parameter's slice of the flat gradient, an input used twice)
            Tensor[] d = be.mlpBackwardInto(x.value, w1.value, w2.value, gy, h, s, needsGrad(x), b1 != null, b2 != null,
                    t.gradSink(x), t.gradSink(w1), t.gradSink(b1), t.gradSink(w2), t.gradSink(b2));
            t.accumulate(x, d[0]);
            t.accumulate(w1, d[1]);
            t.accumulate(b1, d[2]);
            t.accumulate(w2, d[3]);
            t.accumulate(b2, d[4]);
        }, x, w1, b1, w2, b2);
    }

    public static Var dwconv7(Tape t, Var x, Var w, Var b) {
        Backend be = t.backend();
        Tensor y = be.dwconv7(x.value, w.value, b.value);
        return t.record(y, gy -> {
            Tensor[] r = be.dwconv7BackwardInto(x.value, w.value, gy, t.gradSink(x), t.gradSink(w), t.gradSink(b));
            t.accumulate(x, r[0]);
            t.accumulate(w, r[1]);
            t.accumulate(b, r[2]);
        }, x, w, b);
    }

    /**
     * batchnormTrain(dwconv7(x)) as one backend op ({@link Backend#dwconv7Batchnorm}: the CUDA
     * backend sums the statistics in the convolution's epilogue); on the tape one node whose
     * backward is both ops' ({@link Backend#dwconv7BatchnormBackwardInto}), the convolution's
     * output z a tensor the tape owns.
     */
    public static Var dwconv7Batchnorm(Tape t, Var x, Var w, Var b, Var gamma, Var beta, Tensor runMean, Tensor runVar,
                                       float momentum, float eps) {
        Backend be = t.backend();
        Tensor[] r = be.dwconv7Batchnorm(x.value, w.value, b.value, gamma.value, beta.value, runMean, runVar, momentum, eps);
        // z (the convolution's output) is read by this BN alone, so one node holds both backwards
        // (Backend.dwconv7BatchnormBackwardInto: the CPU never writes BN's dz to memory)
        Tensor z = t.own(r[0]), mean = t.own(r[2]), invstd = t.own(r[3]);
        return t.record(r[1], gy -> {
            Tensor[] d = be.dwconv7BatchnormBackwardInto(x.value, w.value, z, gy, gamma.value, mean, invstd,
                    t.gradSink(x), t.gradSink(w), t.gradSink(b), t.gradSink(gamma), t.gradSink(beta));
            t.accumulate(x, d[0]);
            t.accumulate(w, d[1]);
            t.accumulate(b, d[2]);
            t.accumulate(gamma, d[3]);
            t.accumulate(beta, d[4]);
        }, x, w, b, gamma, beta);
    }

    /** Training-mode BatchNorm (updates the running statistics in place). */
    public static Var batchnormTrain(Tape t, Var x, Var gamma, Var beta, Tensor runMean, Tensor runVar,
                                     float momentum, float eps) {
        Backend be = t.backend();
        Tensor[] r = x.bnStats != null   // statistics summed by x's producer (same results up to their order)
                ? be.batchnormTrainStats(x.value, x.bnStats, gamma.value, beta.value, runMean, runVar, momentum, eps)
                : be.batchnormTrain(x.value, gamma.value, beta.value, runMean, runVar, momentum, eps);
        Tensor mean = t.own(r[1]), invstd = t.own(r[2]);
        return t.record(r[0], gy -> {
            Tensor[] d = be.batchnormBackwardInto(x.value, gy, gamma.value, mean, invstd,
                    t.gradSink(x), t.gradSink(gamma), t.gradSink(beta));
            t.accumulate(x, d[0]);
            t.accumulate(gamma, d[1]);
            t.accumulate(beta, d[2]);
        }, x, gamma, beta);
    }

    /**
     * gelu(res + batchnormTrain(x)): the ConvNeXt block's norm2 and residual GELU as one backend op
     * ({@link Backend#batchnormAddGelu}; the CUDA backend applies both in the BN's launches, and
     * takes GELU's derivative in the BN backward's first pass). Saves mean, invstd and the GELU's
     * input in the form the backend keeps it ({@link Backend#batchnormAddGeluSaved}: the CPU keeps
     * GELU's slope there).
     * res may be null: gelu(batchnormTrain(x)) (the stem).
     */
    public static Var batchnormAddGelu(Tape t, Var res, Var x, Var gamma, Var beta, Tensor runMean, Tensor runVar,
                                       float momentum, float eps) {
        return batchnormAddGelu(t, res, x, gamma, beta, runMean, runVar, momentum, eps, false);
    }

    /**
     * As above; with statsOut (out goes to a training BatchNorm next) the backend may also sum out's
     * statistics in its pass ({@link Backend#batchnormAddGeluStats}): they ride on the result Var,
     * and {@link #batchnormTrain} of it uses them instead of a statistics pass (recording tapes
     * only). Values as without, up to the order of the next BN's statistics sums.
     */
    public static Var batchnormAddGelu(Tape t, Var res, Var x, Var gamma, Var beta, Tensor runMean, Tensor runVar,
                                       float momentum, float eps, boolean statsOut) {
        Backend be = t.backend();
        boolean rec = t.recording();
        statsOut &= rec;   // a recording tape frees nothing before the next BN reads them (Tape.Scope)
        Tensor[] r = statsOut
                ? be.batchnormAddGeluStats(x.value, valueOf(res), gamma.value, beta.value, runMean, runVar, momentum, eps, rec)
                : be.batchnormAddGelu(x.value, valueOf(res), gamma.value, beta.value, runMean, runVar, momentum, eps, rec);
        Tensor mean = t.own(r[1]), invstd = t.own(r[2]);
        Tensor stats = statsOut ? t.own(r[4]) : null;
        if (!rec) return withStats(t.record(r[0], gy -> {}), stats);
        Tensor pre = t.own(r[3]);
        return withStats(t.record(r[0], gy -> {
            Tensor[] d = be.batchnormAddGeluBackwardInto(x.value, gy, pre, gamma.value, mean, invstd,
                    t.gradSink(res), t.gradSink(x), t.gradSink(gamma), t.gradSink(beta));
            t.accumulate(res, d[0]);
            t.accumulate(x, d[1]);
            t.accumulate(gamma, d[2]);
            t.accumulate(beta, d[3]);
        }, res, x, gamma, beta), stats);
    }

    private static Var withStats(Var v, Tensor stats) {
        v.bnStats = stats;
        return v;
    }

    /** Eval-mode BatchNorm (running statistics): forward only; a recording tape that needs its gradients is refused. */
    public static Var batchnormEval(Tape t, Var x, Var gamma, Var beta, Tensor runMean, Tensor runVar, float eps) {
        if (t.recording() && (needsGrad(x) || needsGrad(gamma) || needsGrad(beta)))
            throw new UnsupportedOperationException("batchnormEval: backward through eval-mode BN is not supported");
        return t.record(t.backend().batchnormEval(x.value, gamma.value, beta.value, runMean, runVar, eps), gy -> {});
    }

    public static Var layernorm(Tape t, Var x, Var gamma, Var beta, float eps) {
        Backend be = t.backend();
        Tensor[] r = be.layernorm(x.value, gamma.value, beta.value, eps);
        Tensor mean = t.own(r[1]), invstd = t.own(r[2]);
        return t.record(r[0], gy -> {
            Tensor[] d = be.layernormBackwardInto(x.value, gy, gamma.value, mean, invstd,
                    t.gradSink(x), t.gradSink(gamma), t.gradSink(beta));
            t.accumulate(x, d[0]);
            t.accumulate(gamma, d[1]);
            t.accumulate(beta, d[2]);
        }, x, gamma, beta);
    }

    public static Var gelu(Tape t, Var x) {
        Backend be = t.backend();
        return t.record(be.gelu(x.value), gy -> t.accumulate(x, be.geluBackward(x.value, gy)), x);
    }

    public static Var add(Tape t, Var a, Var b) {
        Backend be = t.backend();
        return t.record(be.add(a.value, b.value), gy -> {
            if (needsGrad(a)) t.accumulate(a, copy(be, gy));
            if (needsGrad(b)) t.accumulate(b, copy(be, gy));
        }, a, b);
    }

    /**
     * gelu(a + b) in one pass ({@link Backend#addGelu}), ConvNeXt's block output gelu(x + norm2(·)).
     * Saves what the unfused F.gelu(F.add(a, b)) would: the sum, which GELU's backward needs, and
     * only when a gradient will flow; inference keeps nothing but the output. Backward:
     * geluBackward(pre, gy) is the gradient of both inputs (one gets a copy, as in {@link #add}).
     */
    public static Var addGelu(Tape t, Var a, Var b) {
        Backend be = t.backend();
        boolean rec = t.recording() && (needsGrad(a) || needsGrad(b));
        Tensor[] r = be.addGelu(a.value, b.value, rec);
        if (!rec) return t.record(r[0], gy -> {});
        Tensor pre = t.own(r[1]);
        return t.record(r[0], gy -> {
            Tensor d = be.geluBackward(pre, gy);
            if (needsGrad(a) && needsGrad(b)) t.accumulate(b, copy(be, d));
            t.accumulate(needsGrad(a) ? a : b, d);
        }, a, b);
    }

    /** u = g[:, :C] + s. */
    public static Var gateIn(Tape t, Var gate, Var skip) {
        Backend be = t.backend();
        int threeC = gate.value.dim(1);
        return t.record(be.gateIn(gate.value, skip.value), gu -> {
            Tensor into = needsGrad(skip) ? t.gradSink(skip) : null;   // added to where held: no copy of gu first
            if (needsGrad(gate)) {
                Tensor dg = into != null ? be.gateInBackwardInto(gu, threeC, t.gradSink(gate), into)   // one pass for both
                        : be.gateInBackwardInto(gu, threeC, t.gradSink(gate));
                t.accumulate(gate, dg);
            } else if (into != null) {
                be.addInPlace(into, gu);
            }
            if (needsGrad(skip) && into == null) t.accumulate(skip, copy(be, gu));
        }, gate, skip);
    }

    /** σ(a)⊙s + σ(g2)⊙tanh(g3). */
    public static Var gateOut(Tape t, Var a, Var skip, Var gate) {
        Backend be = t.backend();
        return t.record(be.gateOut(a.value, skip.value, gate.value), gy -> {
            Tensor[] d = be.gateOutBackward(a.value, skip.value, gate.value, gy);
            t.accumulate(a, d[0]);
            t.accumulate(skip, d[1]);
            t.accumulate(gate, d[2]);
        }, a, skip, gate);
    }

    /**
     * The Up block's chain: y = linearCat(s2, low, wc, bc) with s2 = linear2(gateOut(linear1(gateIn(g,
     * skip)), skip, g)) and g = gate(low). Forward: {@link Backend#gateChainTrain} (the CPU runs it
     * per block of pixels, the 1×1 conv too); on the tape one node that saves g, u, a, s
     * and s2, whose backward is {@link Backend#gateChainCatBackward} (the CPU: one pass over pixel
     * blocks at levels 0–1): the gradients of the six ops' backwards, each added into the gradient
     * held for it (gradSink) as the ops recorded one by one add them.
     */
    public static Var gateChainCat(Tape t, Var low, Var skip, Var gw, Var gb, Var w1, Var b1, Var w2, Var b2, Var wc, Var bc) {
        Backend be = t.backend();
        Tensor[] all = be.gateChainTrain(low.value, skip.value, gw.value, valueOf(gb), w1.value, valueOf(b1), w2.value, valueOf(b2),
                wc.value, valueOf(bc));
        Tensor[] r = java.util.Arrays.copyOf(all, 5);
        for (Tensor saved : r) t.own(saved);   // g, u, a, s, s2: the backward's, freed with the tape
        Tensor y = all[5];
        Var[] to = {low, skip, gw, gb, w1, b1, w2, b2, wc, bc};
        return t.record(y, gy -> {
            Tensor[] into = new Tensor[to.length];
            for (int i = 0; i < to.length; i++) into[i] = t.gradSink(to[i]);
            Tensor[] d = be.gateChainCatBackward(low.value, skip.value, r, new Tensor[] {gw.value, w1.value, w2.value, wc.value}, gy,
                    new boolean[] {gb != null, b1 != null, b2 != null, bc != null}, needsGrad(low), needsGrad(skip), into);
            for (int i = 0; i < to.length; i++) t.accumulate(to[i], d[i]);
        }, to);
    }

    public static Var upsample2x(Tape t, Var x) {
        Backend be = t.backend();
        return t.record(be.upsample2x(x.value), gy -> t.accumulate(x, be.upsample2xBackward(gy)), x);
    }

    public static Var pad2d(Tape t, Var x, int top, int bottom, int left, int right) {
        if (top == 0 && bottom == 0 && left == 0 && right == 0) return x;
        Backend be = t.backend();
        int h = x.value.dim(2), w = x.value.dim(3);
        return t.record(be.pad2d(x.value, top, bottom, left, right),
                gy -> t.accumulate(x, be.pad2dBackward(gy, top, left, h, w)), x);
    }

    public static Var concat(Tape t, Var a, Var b) {
        Backend be = t.backend();
        int ca = a.value.dim(1), cb = b.value.dim(1);
        return t.record(be.concat(a.value, b.value), gy -> {
            if (needsGrad(a) && needsGrad(b)) {   // both halves in one pass
                Tensor[] d = be.concatBackward(gy, ca);
                t.accumulate(a, d[0]);
                t.accumulate(b, d[1]);
                return;
            }
            if (needsGrad(a)) t.accumulate(a, be.sliceChannels(gy, 0, ca));
            if (needsGrad(b)) t.accumulate(b, be.sliceChannels(gy, ca, ca + cb));
        }, a, b);
    }

    private static Tensor copy(Backend be, Tensor x) {
        Tensor c = be.empty(x.shape());
        be.copy(x, c);
        return c;
    }
}
