package convunext.bench;

/**
 * What one op call must move and compute: the compulsory DRAM traffic (every input read once,
 * every output written once, float32, no re-reads) and the arithmetic, written once per op here.
 * These are lower bounds for the roofline, not what a given kernel does: an implementation that
 * reads x twice (BatchNorm's statistics, then the apply) counts as slower than the bound.
 *
 * <p>FLOP counts: a multiply-add is 2 FLOPs; for elementwise ops every +, −, ×, ÷ and every
 * transcendental (erf, exp, tanh, sqrt) counts 1. Those ops are memory-bound by a wide margin,
 * so their FLOP convention does not change the roofline percentage. This convention is the one
 * place it is stated: {@link KernelCost} (the per-kernel costs behind bench/NOTES.md's generated GPU
 * prediction) uses these functions and constants. Notation: N batch, C channels, P = H·W pixels,
 * E = N·C·P elements, F = 4 bytes.
 */
public record OpCost(double bytes, double flops) {
    private static final double F = 4;
    /** GELU, 0.5·x·(1 + erf(x/√2)): ×, erf, +, ×, × = 5 FLOPs per element. */
    public static final double GELU_FLOPS = 5;
    /** GELU′ applied to dy, dy·(Φ(x) + x·φ(x)): 10 FLOPs per element. */
    public static final double GELU_BACKWARD_FLOPS = 10;

    /** The sum of two costs (a kernel and its epilogue, two passes). */
    public OpCost plus(OpCost o) { return new OpCost(bytes + o.bytes, flops + o.flops); }

    /** Arithmetic intensity, FLOP per byte. */
    public double intensity() { return bytes > 0 ? flops / bytes : 0; }

    /** Roofline time bound in seconds for the given ceilings (bytes/s, FLOP/s). */
    public double boundSeconds(double bytesPerS, double flopsPerS) {
        return Math.max(bytes / bytesPerS, flops / flopsPerS);
    }

    /** copy: read n, write n. No arithmetic. */
    public static OpCost copy(long n) { return new OpCost(2 * F * n, 0); }

    /**
     * conv2d forward, x [N,Ci,H,W], w [Co,Ci,k,k], y [N,Co,Ho,Wo]: bytes F·(x + w + b + y);
     * FLOPs 2·N·Co·Ho·Wo·Ci·k² (bias adds not counted).
     */
    public static OpCost conv2d(int n, int ci, int h, int w, int co, int k, int ho, int wo) {
        double x = (double) n * ci * h * w, y = (double) n * co * ho * wo, wt = (double) co * ci * k * k;
        return new OpCost(F * (x + wt + co + y), 2 * y * ci * k * k);
    }

    /**
     * conv2d backward: reads x, w, dy; writes dw, db and (if needDx) dx. FLOPs 2·MACs for dW,
     * 2·MACs more for dX, plus N·Co·Ho·Wo for db.
     */
    public static OpCost conv2dBackward(int n, int ci, int h, int w, int co, int k, int ho, int wo, boolean needDx) {
        double x = (double) n * ci * h * w, y = (double) n * co * ho * wo, wt = (double) co * ci * k * k;
        double macs = y * ci * k * k;
        return new OpCost(F * (x + wt + y + wt + co + (needDx ? x : 0)), 2 * macs * (needDx ? 2 : 1) + y);
    }

    /** linear forward (a GEMM per image, M=Co, K=Ci, N=P): bytes F·(x + w + b + y); FLOPs 2·N·P·Ci·Co. */
    public static OpCost linear(int n, int ci, int co, long p) {
        double x = (double) n * ci * p, y = (double) n * co * p;
        return new OpCost(F * (x + (double) co * ci + co + y), 2.0 * n * p * ci * co);
    }

    /**
     * linearCat = linear over cat(a, b) without the concat: reads a and b (Ci = Ca + Cb channels in
     * all), w, b; writes y. The same bytes and FLOPs as {@link #linear} over the concatenation.
     */
    public static OpCost linearCat(int n, int ci, int co, long p) { return linear(n, ci, co, p); }

    /** linearCat backward: {@link #linearBackward}'s, da and db written straight from the data GEMM. */
    public static OpCost linearCatBackward(int n, int ci, int co, long p) { return linearBackward(n, ci, co, p); }

    /** linear backward: reads x, w, dy; writes dx, dw, db. FLOPs 4·N·P·Ci·Co (dX and dW) + N·Co·P (db). */
    public static OpCost linearBackward(int n, int ci, int co, long p) {
        double x = (double) n * ci * p, y = (double) n * co * p, wt = (double) co * ci;
        return new OpCost(F * (x + wt + y + x + wt + co), 4.0 * n * p * ci * co + y);
    }

    /**
     * linearGelu (GELU in the GEMM epilogue): reads x, w, b; writes h, and pre when {@code keepPre}
     * (training). FLOPs 2·N·P·Ci·Co + 5 per output (GELU). Unfused, the same work costs
     * {@link #linear} + {@link #gelu}: one more pass over the Co-channel output.
     */
    public static OpCost linearGelu(int n, int ci, int co, long p, boolean keepPre) {
        double x = (double) n * ci * p, y = (double) n * co * p;
        return new OpCost(F * (x + (double) co * ci + co + y * (keepPre ? 2 : 1)), 2.0 * n * p * ci * co + GELU_FLOPS * y);
    }

    /**
     * linearGelu backward (Backend.linearBackwardDataGelu): dpre = (wᵀ·dy) ⊙ gelu'(pre); reads dy [N,Co,P], w, pre [N,Ci,P];
     * writes dpre. FLOPs 2·N·P·Ci·Co + 10 per element of dpre.
     */
    public static OpCost linearGeluBackward(int n, int ci, int co, long p) {
        double x = (double) n * ci * p, y = (double) n * co * p;
        return new OpCost(F * (y + (double) co * ci + 2 * x), 2.0 * n * p * ci * co + GELU_BACKWARD_FLOPS * x);
    }

    /**
     * mlp, y = w2·gelu(w1·x + b1) + b2 with the hidden tensor (Hd channels) kept in cache: reads x
     * and the weights; writes y, and in training (keep) h and the saved state s [N,Hd,P]. FLOPs
     * 2·N·P·(C·Hd + Hd·Co) + 5 per hidden element (GELU).
     */
    public static OpCost mlp(int n, int c, int hd, int co, long p, boolean keep) {
        double x = (double) n * c * p, h = (double) n * hd * p, y = (double) n * co * p, wt = (double) hd * (c + co);
        return new OpCost(F * (x + wt + hd + co + y + (keep ? 2 * h : 0)), 2.0 * n * p * hd * (c + co) + 5 * h);
    }

    /**
     * mlpBackward: reads x, gy, h, s and the weights; writes dx and the weight and bias gradients
     * (dpre stays in cache). FLOPs 2·N·P·(2·C·Hd + 2·Hd·Co) + 1 per hidden element (dpre = acc·s).
     */
    public static OpCost mlpBackward(int n, int c, int hd, int co, long p) {
        double x = (double) n * c * p, h = (double) n * hd * p, y = (double) n * co * p, wt = (double) hd * (c + co);
        return new OpCost(F * (2 * x + y + 2 * h + 2 * wt + hd + co), 4.0 * n * p * hd * (c + co) + h);
    }

    /** dwconv7 forward: bytes F·(x + y + 50·C); FLOPs 2·49·E. */
    public static OpCost dwconv7(int n, int c, long p) {
        double e = (double) n * c * p;
        return new OpCost(F * (2 * e + 50.0 * c), 2 * 49 * e);
    }

    /** dwconv7 backward: reads x, dy, w; writes dx, dw, db. FLOPs 4·49·E (dX and dW) + E (db). */
    public static OpCost dwconv7Backward(int n, int c, long p) {
        double e = (double) n * c * p;
        return new OpCost(F * (3 * e + 2 * 50.0 * c), 4 * 49 * e + e);
    }

    /**
     * Normalisation forward (BatchNorm train/eval, LayerNorm): read x, write y, plus the saved
     * statistics ({@code stats} values each for mean and invstd: C for BN, N·P for LN).
     * FLOPs 5·E: Σx and Σx² (3 per element), then (x−μ)·(γ·invstd) + β as one multiply-add.
     */
    private static OpCost norm(int n, int c, long p, long stats) {
        double e = (double) n * c * p;
        return new OpCost(F * (2 * e + 2 * stats + 2.0 * c), 5 * e);
    }

    /** Normalisation backward: read x, dy, write dx (+ statistics and γ). FLOPs 8·E (Σdy, Σdy·x̂, then dx). */
    private static OpCost normBackward(int n, int c, long p, long stats) {
        double e = (double) n * c * p;
        return new OpCost(F * (3 * e + 2 * stats + 3.0 * c), 8 * e);
    }

    /** batchnorm in training mode: {@link #norm} with C statistics each. */
    public static OpCost batchnormTrain(int n, int c, long p) { return norm(n, c, p, c); }

    /** batchnorm in eval mode: {@link #norm} with no statistics written. */
    public static OpCost batchnormEval(int n, int c, long p) { return norm(n, c, p, 0); }

    /** batchnorm backward: {@link #normBackward} with C statistics each. */
    public static OpCost batchnormBackward(int n, int c, long p) { return normBackward(n, c, p, c); }

    /** layernorm: {@link #norm} with N·P statistics each. */
    public static OpCost layernorm(int n, int c, long p) { return norm(n, c, p, (long) n * p); }

    /** layernorm backward: {@link #normBackward} with N·P statistics each. */
    public static OpCost layernormBackward(int n, int c, long p) { return normBackward(n, c, p, (long) n * p); }

    /** GELU forward over e elements: read, write; 0.5·x·(1+erf(x/√2)) is 5 FLOPs. */
    public static OpCost gelu(long e) { return new OpCost(F * 2 * e, GELU_FLOPS * e); }

    /** GELU backward: read x, dy, write dx; dy·(Φ(x) + x·φ(x)) is 10 FLOPs. */
    public static OpCost geluBackward(long e) { return new OpCost(F * 3 * e, GELU_BACKWARD_FLOPS * e); }

    /** add: read a, b, write y; 1 FLOP. */
    public static OpCost add(long e) { return new OpCost(F * 3 * e, e); }

    /**
     * addGelu: read a, b; write out, and pre when {@code keepPre} (training); 1 + 5 FLOPs. Unfused,
     * the same work costs {@link #add} + {@link #gelu}: one more pass over the sum.
     */
    public static OpCost addGelu(long e, boolean keepPre) { return new OpCost(F * (keepPre ? 4 : 3) * e, (1 + GELU_FLOPS) * e); }

    /** gateIn, E = N·C·P of the skip: read g[:,0:C] and s, write u; 1 FLOP. */
    public static OpCost gateIn(long e) { return new OpCost(F * 3 * e, e); }

    /** gateIn backward: read du, write dg [N,3C,P] (two thirds zeros, still written). */
    public static OpCost gateInBackward(long e) { return new OpCost(F * 4 * e, 0); }

    /**
     * gateOut: read a, s, g[:,C:3C], write out = σ(a)·s + σ(g2)·tanh(g3): 10 FLOPs
     * (each σ is exp, add, divide).
     */
    public static OpCost gateOut(long e) { return new OpCost(F * 5 * e, 10.0 * e); }

    /** gateOut backward: read a, s, g[:,C:3C], dout; write da, ds, dg [N,3C,P]: 16 FLOPs. */
    public static OpCost gateOutBackward(long e) { return new OpCost(F * 10 * e, 16.0 * e); }

    /** upsample (Backend.upsample2x), input E = N·C·h·w: read E, write 4E; 6 FLOPs per output (three lerps). */
    public static OpCost upsample(long eIn) { return new OpCost(F * 5 * eIn, 24.0 * eIn); }

    /** upsample backward: read 4E, write E; each dy is scattered with 4 weights (8 FLOPs). */
    public static OpCost upsampleBackward(long eIn) { return new OpCost(F * 5 * eIn, 32.0 * eIn); }

    /** layout: concat of a and b into y (or the slice back, or a pad): read eOut, write eOut. */
    public static OpCost layout(long eOut) { return new OpCost(F * 2 * eOut, 0); }

    /**
     * loss (cross-entropy + Dice, Backend.ceDiceLoss) over logits [N,K,P] and target [N,P]: read both, write dlogits. FLOPs 12 per logit:
     * softmax (exp, sum, divide), log-likelihood, the Dice sums Σp·t, Σp, Σt, and the gradient.
     */
    public static OpCost loss(int n, int k, long p) {
        double l = (double) n * k * p;
        return new OpCost(F * (2 * l + (double) n * p), 12 * l);
    }

    /** adamw over n parameters: read p, g, m, v, write p, m, v; 12 FLOPs per parameter. */
    public static OpCost adamw(long n) { return new OpCost(F * 7 * n, 12.0 * n); }
}
