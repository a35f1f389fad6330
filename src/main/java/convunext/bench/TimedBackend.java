package convunext.bench;

import convunext.backend.Backend;
import convunext.backend.LossResult;
import convunext.backend.Op;
import convunext.tensor.Tensor;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Wraps a backend and adds up wall time, calls and Java heap bytes allocated (all threads) per op
 * name ({@link Op#key}: the op's stem, then what distinguishes the call, e.g. "dwconv7 bwd"), to
 * see where a training step goes. Heap bytes well above an op's output size point at
 * Vector API code that C2 failed to keep unboxed. Tensors keep the inner backend, so everything
 * the model allocates works unchanged.
 */
public final class TimedBackend implements Backend {
    private final Backend in;
    private final Map<String, long[]> stats = new TreeMap<>();

    public TimedBackend(Backend inner) { this.in = inner; }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** Heap bytes allocated so far by all live threads (the CPU backend's pool threads included). */
    public static long allocatedBytes() {
        long sum = 0;
        for (long b : THREADS.getThreadAllocatedBytes(THREADS.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }

    /** op → {total ns, calls, heap bytes allocated, multiply-add FLOPs (as {@link #macFlops} counts them)}. */
    public Map<String, long[]> stats() { return stats; }

    /**
     * Multiply-add FLOPs (2 per MAC) of the convolutions, linears and depthwise convolutions called
     * since the last reset: the arithmetic a step cannot avoid, the "FLOP floor" at a GEMM rate.
     */
    public double macFlops() { return macFlops; }

    private double macFlops;

    public void reset() { stats.clear(); macFlops = 0; }

    private static double conv(Tensor x, Tensor w, int s, int p) {
        int k = w.dim(2), ho = (x.dim(2) + 2 * p - k) / s + 1, wo = (x.dim(3) + 2 * p - w.dim(3)) / s + 1;
        return 2.0 * x.dim(0) * w.dim(0) * ho * wo * w.dim(1) * k * w.dim(3);
    }

    private static double gemmFlops(Tensor x, Tensor w) {   // 2·N·P·Ci·Co
        return 2.0 * x.dim(0) * x.dim(2) * x.dim(3) * w.dim(0) * w.dim(1);
    }

    /** Runs f, booking its time, one call, its heap bytes and its multiply-add FLOPs to name's entry. */
    private <T> T timed(String name, double flops, Supplier<T> f) {
        long a0 = allocatedBytes(), t0 = System.nanoTime();
        T r = f.get();
        in.sync();
        long dt = System.nanoTime() - t0;
        long[] s = stats.computeIfAbsent(name, k -> new long[4]);
        s[0] += dt;
        s[1]++;
        s[2] += allocatedBytes() - a0;
        s[3] += (long) flops;
        macFlops += flops;
        return r;
    }

    private <T> T timed(Op op, String detail, double flops, Supplier<T> f) { return timed(op.key(detail), flops, f); }

    /** An op without multiply-adds (or one the floor does not count). */
    private <T> T timed(Op op, String detail, Supplier<T> f) { return timed(op.key(detail), 0, f); }

    private void timedVoid(String name, Runnable f) { timed(name, 0, () -> { f.run(); return null; }); }

    @Override public String name() { return in.name(); }
    @Override public String describe() { return in.describe(); }
    @Override public Tensor empty(int... shape) { return timed("empty", 0, () -> in.empty(shape)); }
    @Override public Tensor zeros(int... shape) { return timed("zeros", 0, () -> in.zeros(shape)); }
    @Override public Tensor upload(float[] data, int... shape) { return in.upload(data, shape); }
    @Override public float[] download(Tensor x) { return in.download(x); }
    @Override public Tensor view(Tensor base, long offset, int... shape) { return in.view(base, offset, shape); }
    @Override public void release(Tensor x) { in.release(x); }
    @Override public void copy(Tensor s, Tensor d) { timedVoid("copy", () -> in.copy(s, d)); }
    @Override public void fill(Tensor x, float val) { timedVoid("fill", () -> in.fill(x, val)); }
    @Override public void addInPlace(Tensor d, Tensor s) { timedVoid(Op.ADD.key("inPlace"), () -> in.addInPlace(d, s)); }
    @Override public void sync() { in.sync(); }
    @Override public long[] deviceMemoryPeak() { return in.deviceMemoryPeak(); }
    @Override public void resetDeviceMemoryPeak() { in.resetDeviceMemoryPeak(); }
    @Override public convunext.backend.EventTimer eventTimer() { return in.eventTimer(); }

    private static String kernel(Tensor w) { return w.dim(2) + "x" + w.dim(3); }

    @Override public Tensor conv2d(Tensor x, Tensor w, Tensor b, int s, int p, boolean r) {
        return timed(Op.CONV2D, kernel(w), conv(x, w, s, p), () -> in.conv2d(x, w, b, s, p, r));
    }
    @Override public Tensor[] conv2dBackward(Tensor x, Tensor w, Tensor dy, int s, int p, boolean r, boolean dx, boolean hb) {
        return timed(Op.CONV2D, kernel(w) + " bwd", conv(x, w, s, p) * (dx ? 2 : 1), () -> in.conv2dBackward(x, w, dy, s, p, r, dx, hb));
    }
    @Override public Tensor[] conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, int s, int p, boolean r, boolean dx,
                                                 boolean hb, Tensor xi, Tensor wi, Tensor bi) {
        return timed(Op.CONV2D, kernel(w) + " bwd", conv(x, w, s, p) * (dx || xi != null ? 2 : 1),
                () -> in.conv2dBackwardInto(x, w, dy, s, p, r, dx, hb, xi, wi, bi));
    }
    /** -Dbench.shapes=true: linear rows per shape ("linear 32→128 @256²"). */
    private static final boolean SHAPES = Boolean.getBoolean("bench.shapes");

    /** The shape suffix of a linear's name under -Dbench.shapes=true, else empty. */
    private static String lin(Tensor x, Tensor w, String pass) {
        String shape = SHAPES ? w.dim(1) + "→" + w.dim(0) + " @" + x.dim(2) + "²" : "";
        return shape.isEmpty() ? pass : pass.isEmpty() ? shape : shape + " " + pass;
    }

    @Override public Tensor linear(Tensor x, Tensor w, Tensor b) {
        return timed(Op.LINEAR, lin(x, w, ""), gemmFlops(x, w), () -> in.linear(x, w, b));
    }
    @Override public Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy, boolean dx, boolean hb) {
        return timed(Op.LINEAR, lin(x, w, "bwd"), gemmFlops(x, w) * (dx ? 2 : 1), () -> in.linearBackward(x, w, dy, dx, hb));
    }
    @Override public Tensor[] linearBackwardInto(Tensor x, Tensor w, Tensor dy, boolean dx, boolean hb, Tensor xi,
                                                 Tensor wi, Tensor bi) {
        return timed(Op.LINEAR, lin(x, w, "bwd"), gemmFlops(x, w) * (dx || xi != null ? 2 : 1),
                () -> in.linearBackwardInto(x, w, dy, dx, hb, xi, wi, bi));
    }
    @Override public Tensor linearCat(Tensor a, Tensor b, Tensor w, Tensor bias) {
        return timed(Op.LINEAR_CAT, lin(a, w, ""), gemmFlops(a, w), () -> in.linearCat(a, b, w, bias));
    }
    @Override public Tensor[] linearCatBackward(Tensor a, Tensor b, Tensor w, Tensor dy, boolean da, boolean db, boolean hb) {
        return timed(Op.LINEAR_CAT, lin(a, w, "bwd"), gemmFlops(a, w) * (da || db ? 2 : 1),
                () -> in.linearCatBackward(a, b, w, dy, da, db, hb));
    }
    @Override public Tensor[] linearCatBackwardInto(Tensor a, Tensor b, Tensor w, Tensor dy, boolean da, boolean db, boolean hb,
                                                    Tensor ai, Tensor bi, Tensor wi, Tensor hi) {
        return timed(Op.LINEAR_CAT, lin(a, w, "bwd"), gemmFlops(a, w) * (da || db || ai != null || bi != null ? 2 : 1),
                () -> in.linearCatBackwardInto(a, b, w, dy, da, db, hb, ai, bi, wi, hi));
    }
    @Override public Tensor[] linearGelu(Tensor x, Tensor w, Tensor b, boolean keep) {
        return timed(Op.LINEAR_GELU, lin(x, w, ""), gemmFlops(x, w), () -> in.linearGelu(x, w, b, keep));
    }
    @Override public Tensor linearBackwardDataGelu(Tensor w, Tensor dy, Tensor pre) {
        return timed(Op.LINEAR_GELU, lin(pre, w, "bwd"), gemmFlops(pre, w), () -> in.linearBackwardDataGelu(w, dy, pre));
    }
    @Override public Tensor[] mlp(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, boolean keep) {
        return timed(Op.MLP, lin(x, w1, ""), gemmFlops(x, w1) + gemmFlops(x, w1) / w1.dim(1) * w2.dim(0),
                () -> in.mlp(x, w1, b1, w2, b2, keep));
    }
    @Override public Tensor mlpAddGelu(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor res) {
        return timed(Op.MLP, lin(x, w1, ""), gemmFlops(x, w1) + gemmFlops(x, w1) / w1.dim(1) * w2.dim(0),
                () -> in.mlpAddGelu(x, w1, b1, w2, b2, res));
    }
    @Override public Tensor[] mlpBackward(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean dx,
                                          boolean hb1, boolean hb2) {
        double f1 = gemmFlops(x, w1), f2 = f1 / w1.dim(1) * w2.dim(0);
        return timed(Op.MLP, lin(x, w1, "bwd"), f1 * (dx ? 2 : 1) + 2 * f2, () -> in.mlpBackward(x, w1, w2, gy, h, s, dx, hb1, hb2));
    }
    @Override public Tensor[] mlpBackwardInto(Tensor x, Tensor w1, Tensor w2, Tensor gy, Tensor h, Tensor s, boolean dx,
                                              boolean hb1, boolean hb2, Tensor xi, Tensor w1i, Tensor b1i, Tensor w2i,
                                              Tensor b2i) {
        double f1 = gemmFlops(x, w1), f2 = f1 / w1.dim(1) * w2.dim(0);
        return timed(Op.MLP, lin(x, w1, "bwd"), f1 * (dx || xi != null ? 2 : 1) + 2 * f2,
                () -> in.mlpBackwardInto(x, w1, w2, gy, h, s, dx, hb1, hb2, xi, w1i, b1i, w2i, b2i));
    }
    @Override public Tensor dwconv7(Tensor x, Tensor w, Tensor b) {
        return timed(Op.DWCONV7, "", 98.0 * x.numel(), () -> in.dwconv7(x, w, b));
    }
    @Override public Tensor[] dwconv7Backward(Tensor x, Tensor w, Tensor dy) {
        return timed(Op.DWCONV7, "bwd", 196.0 * x.numel(), () -> in.dwconv7Backward(x, w, dy));
    }
    @Override public Tensor[] dwconv7BackwardInto(Tensor x, Tensor w, Tensor dy, Tensor xi, Tensor wi, Tensor bi) {
        return timed(Op.DWCONV7, "bwd", 196.0 * x.numel(), () -> in.dwconv7BackwardInto(x, w, dy, xi, wi, bi));
    }
    @Override public Tensor[] dwconv7BatchnormBackwardInto(Tensor x, Tensor w, Tensor z, Tensor gy, Tensor g, Tensor m, Tensor i,
                                                           Tensor xi, Tensor wi, Tensor bi, Tensor gi, Tensor ei) {
        return timed(Op.DWCONV7, "+bn bwd", 196.0 * x.numel(), () -> in.dwconv7BatchnormBackwardInto(x, w, z, gy, g, m, i, xi, wi, bi, gi, ei));
    }
    @Override public Tensor[] dwconv7Batchnorm(Tensor x, Tensor w, Tensor bi, Tensor g, Tensor b, Tensor rm, Tensor rv, float m,
                                               float e) {
        return timed(Op.DWCONV7, "+bn", 98.0 * x.numel(), () -> in.dwconv7Batchnorm(x, w, bi, g, b, rm, rv, m, e));
    }
    @Override public Tensor[] batchnormTrain(Tensor x, Tensor g, Tensor b, Tensor rm, Tensor rv, float m, float e) {
        return timed(Op.BATCHNORM, "", () -> in.batchnormTrain(x, g, b, rm, rv, m, e));
    }
    @Override public Tensor batchnormEval(Tensor x, Tensor g, Tensor b, Tensor rm, Tensor rv, float e) {
        return timed(Op.BATCHNORM, "eval", () -> in.batchnormEval(x, g, b, rm, rv, e));
    }
    @Override public Tensor[] batchnormBackward(Tensor x, Tensor dy, Tensor g, Tensor m, Tensor i) {
        return timed(Op.BATCHNORM, "bwd", () -> in.batchnormBackward(x, dy, g, m, i));
    }
    @Override public Tensor[] batchnormBackwardInto(Tensor x, Tensor dy, Tensor g, Tensor m, Tensor i, Tensor xi,
                                                    Tensor gi, Tensor bi) {
        return timed(Op.BATCHNORM, "bwd", () -> in.batchnormBackwardInto(x, dy, g, m, i, xi, gi, bi));
    }
    @Override public Tensor[] batchnormAddGelu(Tensor x, Tensor r, Tensor g, Tensor b, Tensor rm, Tensor rv, float m, float e,
                                               boolean keep) {
        return timed(Op.BATCHNORM, "+gelu", () -> in.batchnormAddGelu(x, r, g, b, rm, rv, m, e, keep));
    }
    @Override public Tensor[] batchnormAddGeluStats(Tensor x, Tensor r, Tensor g, Tensor b, Tensor rm, Tensor rv, float m,
                                                    float e, boolean keep) {
        return timed(Op.BATCHNORM, "+gelu", () -> in.batchnormAddGeluStats(x, r, g, b, rm, rv, m, e, keep));
    }
    @Override public Tensor[] batchnormTrainStats(Tensor x, Tensor st, Tensor g, Tensor b, Tensor rm, Tensor rv, float m, float e) {
        return timed(Op.BATCHNORM, "", () -> in.batchnormTrainStats(x, st, g, b, rm, rv, m, e));
    }
    @Override public Tensor batchnormAddGeluSaved(Tensor pre) { return in.batchnormAddGeluSaved(pre); }
    @Override public Tensor[] batchnormAddGeluBackwardInto(Tensor x, Tensor dy, Tensor pre, Tensor g, Tensor m, Tensor i,
                                                           Tensor ri, Tensor xi, Tensor gi, Tensor bi) {
        return timed(Op.BATCHNORM, "+gelu bwd", () -> in.batchnormAddGeluBackwardInto(x, dy, pre, g, m, i, ri, xi, gi, bi));
    }
    @Override public Tensor[] layernorm(Tensor x, Tensor g, Tensor b, float e) {
        return timed(Op.LAYERNORM, "", () -> in.layernorm(x, g, b, e));
    }
    @Override public Tensor[] layernormBackward(Tensor x, Tensor dy, Tensor g, Tensor m, Tensor i) {
        return timed(Op.LAYERNORM, "bwd", () -> in.layernormBackward(x, dy, g, m, i));
    }
    @Override public Tensor[] layernormBackwardInto(Tensor x, Tensor dy, Tensor g, Tensor m, Tensor i, Tensor xi,
                                                    Tensor gi, Tensor bi) {
        return timed(Op.LAYERNORM, "bwd", () -> in.layernormBackwardInto(x, dy, g, m, i, xi, gi, bi));
    }
    @Override public Tensor gelu(Tensor x) { return timed(Op.GELU, "", () -> in.gelu(x)); }
    @Override public Tensor geluBackward(Tensor x, Tensor dy) { return timed(Op.GELU, "bwd", () -> in.geluBackward(x, dy)); }
    @Override public Tensor add(Tensor a, Tensor b) { return timed(Op.ADD, "", () -> in.add(a, b)); }
    @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean keep) { return timed(Op.ADD_GELU, "", () -> in.addGelu(a, b, keep)); }
    @Override public Tensor gateChain(Tensor l, Tensor s, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor wc,
                                      Tensor bc) {
        double flops = gemmFlops(l, gw) + (w2 == null ? 1 : 2) * gemmFlops(s, w1) + gemmFlops(s, w1) / w1.dim(0) * wc.dim(0) * 2;
        return timed(Op.GATE, "chain", flops, () -> in.gateChain(l, s, gw, gb, w1, b1, w2, b2, wc, bc));
    }
    @Override public Tensor[] gateChainTrain(Tensor l, Tensor s, Tensor gw, Tensor gb, Tensor w1, Tensor b1, Tensor w2, Tensor b2,
                                             Tensor wc, Tensor bc) {
        // booked as a linear (its multiply-adds are the gate's, linear1's, linear2's and the 1×1 conv's); "linear gate chain" in the breakdown
        double flops = gemmFlops(l, gw) + 2 * gemmFlops(s, w1) + (wc == null ? 0 : gemmFlops(s, w1) / w1.dim(0) * wc.dim(0) * 2);
        return timed(Op.LINEAR, "gate chain" + (wc == null ? "" : "+cat") + (SHAPES ? " @" + s.dim(2) + "²" : ""), flops,
                () -> in.gateChainTrain(l, s, gw, gb, w1, b1, w2, b2, wc, bc));
    }
    @Override public Tensor[] gateChainCatBackward(Tensor l, Tensor s, Tensor[] saved, Tensor[] w, Tensor gy, boolean[] bias,
                                                   boolean nl, boolean ns, Tensor[] into) {
        // booked as a linear: dX and dW of the gate chain's three linears and the 1×1 conv's, the gate's backward inside
        double flops = 2 * (gemmFlops(l, w[0]) + 2 * gemmFlops(s, w[1]) + gemmFlops(s, w[1]) / w[1].dim(0) * w[3].dim(0) * 2);
        return timed(Op.LINEAR, "gate chain+cat" + (SHAPES ? " @" + s.dim(2) + "²" : "") + " bwd", flops,
                () -> in.gateChainCatBackward(l, s, saved, w, gy, bias, nl, ns, into));
    }
    @Override public Tensor gateIn(Tensor g, Tensor s) { return timed(Op.GATE, "", () -> in.gateIn(g, s)); }
    @Override public Tensor gateOut(Tensor a, Tensor s, Tensor g) { return timed(Op.GATE, "", () -> in.gateOut(a, s, g)); }
    @Override public Tensor[] gateOutBackward(Tensor a, Tensor s, Tensor g, Tensor d) {
        return timed(Op.GATE, "bwd", () -> in.gateOutBackward(a, s, g, d));
    }
    @Override public Tensor gateInBackward(Tensor du, int c3) { return timed(Op.GATE, "bwd", () -> in.gateInBackward(du, c3)); }
    @Override public Tensor gateInBackwardInto(Tensor du, int c3, Tensor gi) {
        return timed(Op.GATE, "bwd", () -> in.gateInBackwardInto(du, c3, gi));
    }
    @Override public Tensor gateInBackwardInto(Tensor du, int c3, Tensor gi, Tensor si) {
        return timed(Op.GATE, "bwd", () -> in.gateInBackwardInto(du, c3, gi, si));
    }
    @Override public Tensor upsample2x(Tensor x) { return timed(Op.UPSAMPLE, "", () -> in.upsample2x(x)); }
    @Override public Tensor upsample2xBackward(Tensor dy) { return timed(Op.UPSAMPLE, "bwd", () -> in.upsample2xBackward(dy)); }
    @Override public Tensor pad2d(Tensor x, int a, int b, int c, int d) { return timed(Op.LAYOUT, "pad2d", () -> in.pad2d(x, a, b, c, d)); }
    @Override public Tensor pad2dBackward(Tensor dy, int a, int b, int h, int w) {
        return timed(Op.LAYOUT, "pad2d bwd", () -> in.pad2dBackward(dy, a, b, h, w));
    }
    @Override public Tensor concat(Tensor a, Tensor b) { return timed(Op.LAYOUT, "concat", () -> in.concat(a, b)); }
    @Override public Tensor sliceChannels(Tensor x, int c0, int c1) {
        return timed(Op.LAYOUT, "concat bwd", () -> in.sliceChannels(x, c0, c1));
    }
    @Override public Tensor[] concatBackward(Tensor dy, int ca) { return timed(Op.LAYOUT, "concat bwd", () -> in.concatBackward(dy, ca)); }
    @Override public LossResult ceDiceLoss(Tensor l, Tensor tg) { return timed(Op.LOSS, "", () -> in.ceDiceLoss(l, tg)); }
    @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float b1, float b2, float e, float wd, int s) {
        timed(Op.ADAMW, "", () -> { in.adamw(p, g, m, v, lr, b1, b2, e, wd, s); return null; });
    }
}
