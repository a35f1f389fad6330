package convunext.bench;

import convunext.backend.Backend;
import convunext.backend.Op;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Every op of the model, forward and backward, at the shape of its largest instance in
 * ConvUNeXt for the configured batch, size and base_c (level 0: C = base_c at full resolution;
 * the gate, upsample and concat of up4; pwconv1/2 and GELU of a level-0 Block). Written against
 * {@link Backend} only, so the same rows run on the CPU, the emulated device and a GPU.
 * Inputs are fresh pseudo-random values (never zeros) from a fixed seed. With {@link Baselines},
 * the dwconv7 and linear rows also time the same op through cuDNN / cuBLAS on the same inputs.
 */
public final class LayerBench {
    private final Backend be;
    private final BenchConfig cfg;
    private final SplittableRandom rng = new SplittableRandom(20240607);
    private final List<Tensor> live = new ArrayList<>();
    private final Consumer<Row> progress;
    private final Baselines base;   // null: no baseline column

    public LayerBench(Backend be, BenchConfig cfg, Consumer<Row> progress) { this(be, cfg, progress, null); }

    LayerBench(Backend be, BenchConfig cfg, Consumer<Row> progress, Baselines base) {
        this.be = be;
        this.cfg = cfg;
        this.progress = progress;
        this.base = base;
    }

    // ------------------------------------------------------------------ inputs

    private Tensor uniform(double lo, double hi, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        Tensor t = be.upload(a, shape);
        live.add(t);
        return t;
    }

    private Tensor rand(int... shape) { return uniform(-1, 1, shape); }

    /** Class indices 0 … classes−1 as floats, about 1% ignored (Backend.IGNORE_INDEX), as the loss sees them. */
    private Tensor labels(int n, int h, int w) {
        float[] a = new float[n * h * w];
        for (int i = 0; i < a.length; i++) a[i] = rng.nextInt(100) == 0 ? Backend.IGNORE_INDEX : rng.nextInt(cfg.classes());
        Tensor t = be.upload(a, n, h, w);
        live.add(t);
        return t;
    }

    /** Returns the current group's inputs to the backend so that groups never pile up. */
    private void releaseLive() {
        for (Tensor t : live) be.release(t);
        live.clear();
    }

    private Row time(List<Row> out, Op op, String layer, String pass, String shape, OpCost cost, Supplier<?> f) {
        return time(out, op, layer, pass, shape, cost, f, null);
    }

    /** {@code baseline}: times the vendor library's version right after ours (may give null). */
    private Row time(List<Row> out, Op op, String layer, String pass, String shape, OpCost cost, Supplier<?> f,
                     Supplier<Baseline> baseline) {
        if (!op.benchRows().contains(layer + " " + pass))
            throw new IllegalStateException("bench row '" + op.stem() + " " + layer + " " + pass + "' is not in Op." + op.name());
        return time(out, op.stem(), layer, pass, shape, cost, cfg.warmup(), cfg.reps(), f, baseline);
    }

    private Row time(List<Row> out, String op, String layer, String pass, String shape, OpCost cost, int warmup, int reps,
                     Supplier<?> f, Supplier<Baseline> baseline) {
        double[] ms = Timing.run(be, warmup, reps, f);
        Baseline b = base != null && baseline != null ? baseline.get() : null;
        Row r = new Row(op, layer, pass, shape, Timing.median(ms), ms[0], cost, b);
        out.add(r);
        if (progress != null) progress.accept(r);
        return r;
    }

    private static String s(int... d) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < d.length; i++) b.append(i > 0 ? "×" : "").append(d[i]);
        return b.toString();
    }

    // ------------------------------------------------------------------ ceilings

    /**
     * The roofline ceilings of this backend, measured now: a copy of the largest activation
     * (N·4C·H·W floats, at least 2^20; larger than any cache at the real shapes) and a square
     * linear 8C→8C (the width of the deepest stage) at half resolution.
     */
    public Ceilings ceilings() {
        List<Row> rows = new ArrayList<>();
        int n = cfg.batch(), c = cfg.baseC(), sz = cfg.size(), h = sz / 2;
        long numel = Math.max((long) n * 4 * c * sz * sz, 1L << 20);
        Tensor src = rand((int) numel), dst = be.empty((int) numel);
        live.add(dst);
        // More repeats than the rows: every percentage below is relative to these two numbers.
        int warm = Math.max(3, cfg.warmup()), reps = Math.max(5, cfg.reps());
        Row copy = time(rows, "copy", "ceiling", "-", String.valueOf(numel), OpCost.copy(numel), warm, reps,
                () -> { be.copy(src, dst); return null; }, null);
        releaseLive();
        int k = 8 * c;
        Tensor x = rand(n, k, h, h), w = uniform(-0.1, 0.1, k, k), b = rand(k);
        Row gemm = time(rows, Op.LINEAR.stem(), "ceiling " + k + "→" + k, "fwd", s(n, k, h, h), OpCost.linear(n, k, k, (long) h * h),
                warm, reps, () -> be.linear(x, w, b), null);
        releaseLive();
        return new Ceilings(copy, gemm);
    }

    // ------------------------------------------------------------------ rows

    /** All rows, in a fixed order. */
    public List<Row> rows() {
        List<Row> out = new ArrayList<>();
        int n = cfg.batch(), c = cfg.baseC(), sz = cfg.size(), h = sz / 2;
        long p = (long) sz * sz, e = n * c * p;
        try {
            convs(out, n, c, sz);
            norms(out, n, c, sz, p);
            block(out, n, c, sz, p);
            gate(out, n, c, sz, e);
            upsampleAndLayout(out, n, c, sz, h);
            loss(out, n, sz, p);
            adamw(out);
        } finally {
            releaseLive();
        }
        return out;
    }

    private void convs(List<Row> out, int n, int c, int sz) {
        Tensor x = rand(n, 3, sz, sz), w = uniform(-0.2, 0.2, c, 3, 7, 7), b = rand(c), dy = rand(n, c, sz, sz);
        String sh = s(n, 3, sz, sz) + "→" + c;
        // The stem's input is the image (no gradient), so its backward computes dW and db only.
        time(out, Op.CONV2D, "stem 7x7 reflect", "fwd", sh, OpCost.conv2d(n, 3, sz, sz, c, 7, sz, sz),
                () -> be.conv2d(x, w, b, 1, 3, true));
        time(out, Op.CONV2D, "stem 7x7 reflect", "bwd", sh, OpCost.conv2dBackward(n, 3, sz, sz, c, 7, sz, sz, false),
                () -> be.conv2dBackward(x, w, dy, 1, 3, true, false, true));
        releaseLive();
        int ho = (sz - 2) / 2 + 1;
        Tensor x2 = rand(n, c, sz, sz), w2 = uniform(-0.2, 0.2, 2 * c, c, 2, 2), b2 = rand(2 * c), dy2 = rand(n, 2 * c, ho, ho);
        String sh2 = s(n, c, sz, sz) + "→" + 2 * c;
        time(out, Op.CONV2D, "down1 2x2 s2", "fwd", sh2, OpCost.conv2d(n, c, sz, sz, 2 * c, 2, ho, ho),
                () -> be.conv2d(x2, w2, b2, 2, 0, false));
        time(out, Op.CONV2D, "down1 2x2 s2", "bwd", sh2, OpCost.conv2dBackward(n, c, sz, sz, 2 * c, 2, ho, ho, true),
                () -> be.conv2dBackward(x2, w2, dy2, 2, 0, false, true, true));
        releaseLive();
    }

    private void norms(List<Row> out, int n, int c, int sz, long p) {
        Tensor x = rand(n, c, sz, sz), dy = rand(n, c, sz, sz), g = uniform(0.5, 1.5, c), bt = rand(c);
        Tensor rm = uniform(-0.1, 0.1, c), rv = uniform(0.5, 1.5, c);
        String sh = s(n, c, sz, sz);
        Tensor wd = uniform(-0.2, 0.2, c, 1, 7, 7);
        time(out, Op.DWCONV7, "level0 block", "fwd", sh, OpCost.dwconv7(n, c, p), () -> be.dwconv7(x, wd, bt),
                () -> base.dwconv7(x, wd, bt, cfg.warmup(), cfg.reps()));
        time(out, Op.DWCONV7, "level0 block", "bwd", sh, OpCost.dwconv7Backward(n, c, p), () -> be.dwconv7Backward(x, wd, dy),
                () -> base.dwconv7Backward(x, wd, dy, cfg.warmup(), cfg.reps()));
        time(out, Op.BATCHNORM, "level0", "fwd", sh, OpCost.batchnormTrain(n, c, p),
                () -> be.batchnormTrain(x, g, bt, rm, rv, 0.1f, 1e-5f));
        Tensor[] st = be.batchnormTrain(x, g, bt, rm, rv, 0.1f, 1e-5f);
        for (Tensor t : st) live.add(t);
        time(out, Op.BATCHNORM, "level0", "bwd", sh, OpCost.batchnormBackward(n, c, p),
                () -> be.batchnormBackward(x, dy, g, st[1], st[2]));
        time(out, Op.BATCHNORM, "level0", "eval", sh, OpCost.batchnormEval(n, c, p),
                () -> be.batchnormEval(x, g, bt, rm, rv, 1e-5f));
        time(out, Op.LAYERNORM, "level0", "fwd", sh, OpCost.layernorm(n, c, p), () -> be.layernorm(x, g, bt, 1e-6f));
        Tensor[] ln = be.layernorm(x, g, bt, 1e-6f);
        for (Tensor t : ln) live.add(t);
        time(out, Op.LAYERNORM, "level0", "bwd", sh, OpCost.layernormBackward(n, c, p),
                () -> be.layernormBackward(x, dy, g, ln[1], ln[2]));
        releaseLive();
    }

    /** Our linear: the backend's, or gemm.cu where the backend's is cuBLAS (see {@link Baselines}). */
    private Tensor linear(Tensor x, Tensor w, Tensor b) { return base != null ? base.linear(x, w, b) : be.linear(x, w, b); }

    private Tensor[] linearBackward(Tensor x, Tensor w, Tensor dy) {
        return base != null ? base.linearBackward(x, w, dy) : be.linearBackward(x, w, dy, true, true);
    }

    /** The two 1×1 GEMMs of a level-0 Block, the GELU between them and the residual add. */
    private void block(List<Row> out, int n, int c, int sz, long p) {
        Tensor x = rand(n, c, sz, sz), w1 = uniform(-0.3, 0.3, 4 * c, c), b1 = rand(4 * c), dy1 = rand(n, 4 * c, sz, sz);
        String sh1 = s(n, c, sz, sz) + "→" + 4 * c;
        time(out, Op.LINEAR, "pwconv1 C→4C", "fwd", sh1, OpCost.linear(n, c, 4 * c, p), () -> linear(x, w1, b1),
                () -> base.linear(x, w1, b1, cfg.warmup(), cfg.reps()));
        time(out, Op.LINEAR, "pwconv1 C→4C", "bwd", sh1, OpCost.linearBackward(n, c, 4 * c, p), () -> linearBackward(x, w1, dy1),
                () -> base.linearBackward(x, w1, dy1, cfg.warmup(), cfg.reps()));
        String shg = s(n, 4 * c, sz, sz);
        time(out, Op.GELU, "after pwconv1", "fwd", shg, OpCost.gelu(4 * n * c * p), () -> be.gelu(dy1));
        Tensor x4 = rand(n, 4 * c, sz, sz);
        time(out, Op.GELU, "after pwconv1", "bwd", shg, OpCost.geluBackward(4 * n * c * p), () -> be.geluBackward(x4, dy1));
        Tensor w2 = uniform(-0.2, 0.2, c, 4 * c), b2 = rand(c), dy2 = rand(n, c, sz, sz);
        String sh2 = shg + "→" + c;
        time(out, Op.LINEAR, "pwconv2 4C→C", "fwd", sh2, OpCost.linear(n, 4 * c, c, p), () -> linear(x4, w2, b2),
                () -> base.linear(x4, w2, b2, cfg.warmup(), cfg.reps()));
        time(out, Op.LINEAR, "pwconv2 4C→C", "bwd", sh2, OpCost.linearBackward(n, 4 * c, c, p), () -> linearBackward(x4, w2, dy2),
                () -> base.linearBackward(x4, w2, dy2, cfg.warmup(), cfg.reps()));
        // The same two GEMMs with the GELU in their epilogues (what the model runs; compare with the
        // unfused rows above: pwconv1 fwd + gelu fwd, and the dx half of pwconv2 bwd + gelu bwd).
        time(out, Op.LINEAR_GELU, "pwconv1+GELU C→4C", "fwd", sh1, OpCost.linearGelu(n, c, 4 * c, p, true),
                () -> be.linearGelu(x, w1, b1, true));
        time(out, Op.LINEAR_GELU, "pwconv1+GELU C→4C", "infer", sh1, OpCost.linearGelu(n, c, 4 * c, p, false),
                () -> be.linearGelu(x, w1, b1, false));
        time(out, Op.LINEAR_GELU, "pwconv2 dx·GELU'", "bwd", sh2, OpCost.linearGeluBackward(n, 4 * c, c, p),
                () -> be.linearBackwardDataGelu(w2, dy2, x4));
        // Both GEMMs and the GELU as one op (what the model runs): the hidden tensor stays in cache.
        String shm = s(n, c, sz, sz) + "→" + 4 * c + "→" + c;
        time(out, Op.MLP, "block C→4C→C", "fwd", shm, OpCost.mlp(n, c, 4 * c, c, p, true), () -> be.mlp(x, w1, b1, w2, b2, true));
        time(out, Op.MLP, "block C→4C→C", "infer", shm, OpCost.mlp(n, c, 4 * c, c, p, false), () -> be.mlp(x, w1, b1, w2, b2, false));
        Tensor[] saved = be.mlp(x, w1, b1, w2, b2, true);
        live.add(saved[0]);
        live.add(saved[1]);
        live.add(saved[2]);
        time(out, Op.MLP, "block C→4C→C", "bwd", shm, OpCost.mlpBackward(n, c, 4 * c, c, p),
                () -> be.mlpBackward(x, w1, w2, dy2, saved[1], saved[2], true, true, true));
        time(out, Op.ADD, "block residual", "fwd", s(n, c, sz, sz), OpCost.add(n * c * p), () -> be.add(x, dy2));
        // The block's output GELU fused with the residual add (what the model runs; compare with add
        // fwd + a gelu over C channels).
        time(out, Op.ADD_GELU, "block residual+GELU", "fwd", s(n, c, sz, sz), OpCost.addGelu(n * c * p, true),
                () -> be.addGelu(x, dy2, true));
        time(out, Op.ADD_GELU, "block residual+GELU", "infer", s(n, c, sz, sz), OpCost.addGelu(n * c * p, false),
                () -> be.addGelu(x, dy2, false));
        releaseLive();
    }

    /** up4's gated attention: g = gate(l) [N,3C,H,W], skip s [N,C,H,W]. */
    private void gate(List<Row> out, int n, int c, int sz, long e) {
        Tensor g = rand(n, 3 * c, sz, sz), sk = rand(n, c, sz, sz), a = rand(n, c, sz, sz), d = rand(n, c, sz, sz);
        String sh = s(n, c, sz, sz);
        time(out, Op.GATE, "up4 gateIn", "fwd", sh, OpCost.gateIn(e), () -> be.gateIn(g, sk));
        time(out, Op.GATE, "up4 gateIn", "bwd", sh, OpCost.gateInBackward(e), () -> be.gateInBackward(d, 3 * c));
        time(out, Op.GATE, "up4 gateOut", "fwd", sh, OpCost.gateOut(e), () -> be.gateOut(a, sk, g));
        time(out, Op.GATE, "up4 gateOut", "bwd", sh, OpCost.gateOutBackward(e), () -> be.gateOutBackward(a, sk, g, d));
        releaseLive();
    }

    /** up4: upsample2x of the low path, concat with the gated skip (its backward is the slice). */
    private void upsampleAndLayout(List<Row> out, int n, int c, int sz, int h) {
        Tensor lo = rand(n, c, h, h), dy = rand(n, c, 2 * h, 2 * h);
        String sh = s(n, c, h, h) + "→" + 2 * h + "²";
        long ein = (long) n * c * h * h;
        time(out, Op.UPSAMPLE, "up4", "fwd", sh, OpCost.upsample(ein), () -> be.upsample2x(lo));
        time(out, Op.UPSAMPLE, "up4", "bwd", sh, OpCost.upsampleBackward(ein), () -> be.upsample2xBackward(dy));
        releaseLive();
        Tensor a = rand(n, c, sz, sz), b = rand(n, c, sz, sz), y = rand(n, 2 * c, sz, sz);
        long eo = 2L * n * c * sz * sz;
        time(out, Op.LAYOUT, "up4 concat", "fwd", s(n, c, sz, sz) + "+" + c, OpCost.layout(eo), () -> be.concat(a, b));
        time(out, Op.LAYOUT, "up4 concat", "bwd", s(n, 2 * c, sz, sz) + "→" + c, OpCost.layout(eo / 2), () -> be.sliceChannels(y, 0, c));
        // what the model runs instead: Conv1×1(cat[a, b]) 2C→C reading both halves (no concat)
        Tensor w = rand(c, 2 * c, 1, 1), bias = rand(c), dyc = rand(n, c, sz, sz);
        long p = (long) sz * sz;
        time(out, Op.LINEAR_CAT, "up4 conv1x1", "fwd", s(n, c, sz, sz) + "+" + c + "→" + c, OpCost.linearCat(n, 2 * c, c, p),
                () -> be.linearCat(a, b, w, bias));
        time(out, Op.LINEAR_CAT, "up4 conv1x1", "bwd", s(n, c, sz, sz) + "+" + c + "→" + c, OpCost.linearCatBackward(n, 2 * c, c, p),
                () -> be.linearCatBackward(a, b, w, dyc, true, true, true));
        releaseLive();
    }

    private void loss(List<Row> out, int n, int sz, long p) {
        int k = cfg.classes();
        Tensor logits = uniform(-3.0, 3.0, n, k, sz, sz), t = labels(n, sz, sz);
        time(out, Op.LOSS, "ce+dice", "fwd+bwd", s(n, k, sz, sz), OpCost.loss(n, k, p), () -> be.ceDiceLoss(logits, t));
        releaseLive();
    }

    /** One AdamW update over all of the model's parameters (the flat buffers the optimiser uses). */
    private void adamw(List<Row> out) {
        try (ConvUNeXt model = new ConvUNeXt(new ConvUNeXt.Config(3, cfg.classes(), cfg.baseC(), Norm.BATCH), be, 1);
             AdamW opt = AdamW.withDefaults(model.params)) {
            long np = model.params.numParams();
            Tensor g = uniform(-1e-2, 1e-2, (int) np);
            be.copy(g, model.params.flatGrads());
            time(out, Op.ADAMW, "all parameters", "step", np + " params", OpCost.adamw(np), () -> { opt.step(1e-4); return null; });
        }
        releaseLive();
    }
}
