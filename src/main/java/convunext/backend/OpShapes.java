package convunext.backend;

import convunext.tensor.Tensor;
import java.util.Arrays;

/**
 * The shape rules of every {@link Backend} op, written once: each method checks its op's input
 * shapes (null for an absent optional input) and returns the output shape. Every backend calls
 * the method of an op before doing any work, so a bad call gets the same message on every
 * backend: {@code IllegalArgumentException("<op>: <rule>, got <shapes>")}, one message per rule.
 */
public final class OpShapes {
    private OpShapes() {}

    // ------------------------------------------------------------------ rules

    static void require(boolean ok, String op, String what) {
        if (!ok) throw new IllegalArgumentException(op + ": " + what);
    }

    private static String s(int[] shape) { return Arrays.toString(shape); }

    /** A tensor's shape, or null for an absent (optional) tensor. */
    public static int[] of(Tensor t) { return t == null ? null : t.shape(); }

    /** {@code name} is [N,C,H,W]. */
    static void rank4(String op, String name, int[] t) {
        require(t != null, op, name + " is required");
        require(t.length == 4, op, name + " must have rank 4 [N,C,H,W], got " + s(t));
    }

    /** {@code name} is exactly {@code want}. */
    static void exactly(String op, String name, int[] t, int... want) {
        require(t != null, op, name + " is required, " + s(want));
        require(Arrays.equals(t, want), op, name + " must be " + s(want) + ", got " + s(t));
    }

    /** {@code bName} has {@code aName}'s shape. */
    static void same(String op, String aName, int[] a, String bName, int[] b) {
        require(Arrays.equals(a, b), op, bName + " must have the shape of " + aName + " " + s(a) + ", got " + s(b));
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    // ------------------------------------------------------------------ conv2d

    /**
     * 1×1, stride 1, no padding: the convolution is exactly a Linear over channels (the weight's
     * memory is [Co,Ci]), and backends run their GEMM for it.
     */
    public static boolean conv2dIsLinear(int[] w, int stride, int pad) {
        return w.length == 4 && w[2] == 1 && w[3] == 1 && stride == 1 && pad == 0;
    }

    /** x [N,Ci,H,W], w [Co,Ci,k,k], b [Co] or null → [N,Co,(H+2p−k)/s+1,(W+2p−k)/s+1]. */
    public static int[] conv2d(int[] x, int[] w, int[] b, int stride, int pad, boolean reflect) {
        return conv2d("conv2d", x, w, b, stride, pad, reflect);
    }

    /** The same rules, and dy of the output's shape; returns dx's shape (x's). */
    public static int[] conv2dBackward(int[] x, int[] w, int[] dy, int stride, int pad, boolean reflect) {
        String op = "conv2dBackward";
        exactly(op, "dy", dy, conv2d(op, x, w, null, stride, pad, reflect));
        return x;
    }

    private static int[] conv2d(String op, int[] x, int[] w, int[] b, int stride, int pad, boolean reflect) {
        rank4(op, "x", x);
        rank4(op, "w", w);
        require(w[1] == x[1] && w[2] == w[3] && w[2] >= 1, op, "w must be [Co," + x[1] + ",k,k] for x " + s(x) + ", got " + s(w));
        require(stride >= 1 && pad >= 0, op, "stride must be ≥ 1 and pad ≥ 0, got stride " + stride + ", pad " + pad);
        require(!reflect || (pad < x[2] && pad < x[3]), op, "reflect padding " + pad + " needs pad < H and W, got x " + s(x));
        int k = w[2];
        require(x[2] + 2 * pad >= k && x[3] + 2 * pad >= k, op, "kernel " + k + " larger than the padded input, got x "
                + s(x) + ", pad " + pad);
        if (b != null) exactly(op, "b", b, w[0]);
        return new int[] {x[0], w[0], (x[2] + 2 * pad - k) / stride + 1, (x[3] + 2 * pad - k) / stride + 1};
    }

    // ------------------------------------------------------------------ linear, linearGelu

    /** x [N,Ci,H,W], w [Co,Ci] (or a 1×1 conv weight [Co,Ci,1,1]), b [Co] or null → [N,Co,H,W]. */
    public static int[] linear(int[] x, int[] w, int[] b) { return linear("linear", "x", x, w, b); }

    /** The same rules, and dy [N,Co,H,W]; returns dx's shape (x's). */
    public static int[] linearBackward(int[] x, int[] w, int[] dy) {
        exactly("linearBackward", "dy", dy, linear("linearBackward", "x", x, w, null));
        return x;
    }

    /** linear's rules → the shape of h (and pre). */
    public static int[] linearGelu(int[] x, int[] w, int[] b) { return linear("linearGelu", "x", x, w, b); }

    /** w [Co,Ci] for pre [N,Ci,H,W] (as linear's x), dy [N,Co,H,W] → dpre (pre's shape). */
    public static int[] linearBackwardDataGelu(int[] w, int[] dy, int[] pre) {
        String op = "linearBackwardDataGelu";
        exactly(op, "dy", dy, linear(op, "pre", pre, w, null));
        return pre;
    }

    /** linearCat: a [N,Ca,H,W], b [N,Cb,H,W] (Ca, Cb ≥ 1), w [Co,Ca+Cb] (or [Co,Ca+Cb,1,1]), bias [Co] or null → [N,Co,H,W]. */
    public static int[] linearCat(int[] a, int[] b, int[] w, int[] bias) { return linearCat("linearCat", a, b, w, bias); }

    /** linearCat's rules, and dy [N,Co,H,W]. */
    public static void linearCatBackward(int[] a, int[] b, int[] w, int[] dy) {
        String op = "linearCatBackward";
        exactly(op, "dy", dy, linearCat(op, a, b, w, null));
    }

    private static int[] linearCat(String op, int[] a, int[] b, int[] w, int[] bias) {
        rank4(op, "a", a);
        rank4(op, "b", b);
        require(a[0] == b[0] && a[2] == b[2] && a[3] == b[3], op, "a and b must agree in N, H, W, got " + s(a) + " and " + s(b));
        require(a[1] >= 1 && b[1] >= 1, op, "a and b need at least one channel each, got " + s(a) + " and " + s(b));
        return linear(op, "cat(a, b)", new int[] {a[0], a[1] + b[1], a[2], a[3]}, w, bias);
    }

    /**
     * mlp = linear(gelu(linear(x, w1, b1)), w2, b2): x [N,C,H,W], w1 [Hd,C] (or [Hd,C,1,1]),
     * b1 [Hd] or null, w2 [Co,Hd] (or [Co,Hd,1,1]), b2 [Co] or null → y [N,Co,H,W].
     */
    public static int[] mlp(int[] x, int[] w1, int[] b1, int[] w2, int[] b2) {
        return linear("mlp", "h", linear("mlp", "x", x, w1, b1), w2, b2);
    }

    /** mlp's rules; res of y's shape [N,Co,H,W] → y's shape. */
    public static int[] mlpAddGelu(int[] x, int[] w1, int[] b1, int[] w2, int[] b2, int[] res) {
        int[] y = linear("mlpAddGelu", "h", linear("mlpAddGelu", "x", x, w1, b1), w2, b2);
        exactly("mlpAddGelu", "res", res, y);
        return y;
    }

    /** mlp's rules for x, w1, w2; gy of y's shape; h and s [N,Hd,H,W] → dx's shape (x's). */
    public static int[] mlpBackward(int[] x, int[] w1, int[] w2, int[] gy, int[] h, int[] s) {
        String op = "mlpBackward";
        int[] hid = linear(op, "x", x, w1, null);
        exactly(op, "gy", gy, linear(op, "h", hid, w2, null));
        exactly(op, "h", h, hid);
        exactly(op, "s", s, hid);
        return x;
    }

    private static int[] linear(String op, String xName, int[] x, int[] w, int[] b) {
        rank4(op, xName, x);
        require(w != null, op, "w is required");
        boolean ok = w.length >= 2 && w[1] == x[1] && (w.length == 2 || (w.length == 4 && w[2] == 1 && w[3] == 1));
        require(ok, op, "w must be [Co," + x[1] + "] (or [Co," + x[1] + ",1,1]) for " + xName + " " + s(x) + ", got " + s(w));
        if (b != null) exactly(op, "b", b, w[0]);
        return new int[] {x[0], w[0], x[2], x[3]};
    }

    // ------------------------------------------------------------------ dwconv7

    /** x [N,C,H,W] with H, W ≥ 4 (reflect padding 3), w [C,1,7,7], b [C] → x's shape. */
    public static int[] dwconv7(int[] x, int[] w, int[] b) {
        dwconv7("dwconv7", x, w);
        exactly("dwconv7", "b", b, x[1]);
        return x;
    }

    /** dwconv7's rules for x and w, dy of x's shape → dx's shape. */
    public static int[] dwconv7Backward(int[] x, int[] w, int[] dy) {
        dwconv7("dwconv7Backward", x, w);
        same("dwconv7Backward", "x", x, "dy", dy);
        return x;
    }

    private static void dwconv7(String op, int[] x, int[] w) {
        rank4(op, "x", x);
        exactly(op, "w", w, x[1], 1, 7, 7);
        require(x[2] >= 4 && x[3] >= 4, op, "H and W must be ≥ 4 for reflect padding 3, got x " + s(x));
    }

    // ------------------------------------------------------------------ batchnorm, layernorm

    /**
     * x [N,C,H,W] with N·H·W > 1, gamma, beta, running mean and var [C] → y (x's shape). (The
     * float64 oracle may pass no running stats, both null, to get the batch statistics only.)
     */
    public static int[] batchnormTrain(int[] x, int[] gamma, int[] beta, int[] runMean, int[] runVar) {
        String op = "batchnormTrain";
        perChannel(op, x, "gamma", gamma, "beta", beta);
        if (runMean != null || runVar != null) perChannel(op, x, "runMean", runMean, "runVar", runVar);
        moreThanOneValue(op, x);
        return x;
    }

    /** x [N,C,H,W], gamma, beta, running mean and var [C] → y. */
    public static int[] batchnormEval(int[] x, int[] gamma, int[] beta, int[] runMean, int[] runVar) {
        perChannel("batchnormEval", x, "gamma", gamma, "beta", beta, "runMean", runMean, "runVar", runVar);
        return x;
    }

    /** x [N,C,H,W] with N·H·W > 1, dy of x's shape, gamma, mean, invstd [C] → dx. */
    public static int[] batchnormBackward(int[] x, int[] dy, int[] gamma, int[] mean, int[] invstd) {
        String op = "batchnormBackward";
        perChannel(op, x, "gamma", gamma, "mean", mean, "invstd", invstd);
        same(op, "x", x, "dy", dy);
        moreThanOneValue(op, x);
        return x;
    }

    /** x [N,C,H,W], gamma, beta [C] → y (x's shape); mean and invstd are [N,H,W] ({@link #layernormStats}). */
    public static int[] layernorm(int[] x, int[] gamma, int[] beta) {
        perChannel("layernorm", x, "gamma", gamma, "beta", beta);
        return x;
    }

    /** The shape of layernorm's saved mean and invstd for x [N,C,H,W]: [N,H,W]. */
    public static int[] layernormStats(int[] x) { return new int[] {x[0], x[2], x[3]}; }

    /** x [N,C,H,W], dy of x's shape, gamma [C], mean and invstd [N,H,W] → dx. */
    public static int[] layernormBackward(int[] x, int[] dy, int[] gamma, int[] mean, int[] invstd) {
        String op = "layernormBackward";
        perChannel(op, x, "gamma", gamma);
        same(op, "x", x, "dy", dy);
        exactly(op, "mean", mean, layernormStats(x));
        exactly(op, "invstd", invstd, layernormStats(x));
        return x;
    }

    /** x is [N,C,H,W]; each (name, shape) pair is [C]. */
    private static void perChannel(String op, int[] x, Object... namesAndShapes) {
        rank4(op, "x", x);
        for (int i = 0; i < namesAndShapes.length; i += 2)
            exactly(op, (String) namesAndShapes[i], (int[]) namesAndShapes[i + 1], x[1]);
    }

    private static void moreThanOneValue(String op, int[] x) {
        require((long) x[0] * x[2] * x[3] > 1, op, "needs more than one value per channel (N·H·W > 1), got x " + s(x));
    }

    // ------------------------------------------------------------------ elementwise

    /** Any shape → the same. */
    public static int[] gelu(int[] x) { return x; }

    /** dy of x's shape → dx. */
    public static int[] geluBackward(int[] x, int[] dy) {
        same("geluBackward", "x", x, "dy", dy);
        return x;
    }

    /** b of a's shape → a's shape. */
    public static int[] add(int[] a, int[] b) {
        same("add", "a", a, "b", b);
        return a;
    }

    /** src with as many elements as dst (in place). */
    public static void addInPlace(int[] dst, int[] src) {
        require(numel(dst) == numel(src), "addInPlace", "src must have as many elements as dst " + s(dst) + ", got " + s(src));
    }

    /** b of a's shape → out (and pre) of a's shape. */
    public static int[] addGelu(int[] a, int[] b) {
        same("addGelu", "a", a, "b", b);
        return a;
    }

    // ------------------------------------------------------------------ gate

    /** s [N,C,H,W], g [N,3C,H,W] → u (s's shape). */
    public static int[] gateIn(int[] g, int[] s) {
        gate("gateIn", g, s);
        return s;
    }

    /**
     * gateChain: low and skip [N,C,H,W]; gw [3C,C] (gb [3C]), w1 and w2 [C,C] (b1, b2 [C]), wc
     * [Co,2C] (bc [Co]), biases optional → y [N,Co,H,W]. w2 null (and then b2 null): no linear2,
     * the chain's linear2 folded into wc by the caller.
     */
    public static int[] gateChain(int[] low, int[] skip, int[] gw, int[] gb, int[] w1, int[] b1, int[] w2, int[] b2,
                                  int[] wc, int[] bc) {
        String op = "gateChain";
        int[] g = linear(op, "low", low, gw, gb);
        gate(op, g, skip);
        same(op, "skip", skip, "low", low);
        int[] a = linear(op, "u", skip, w1, b1);
        exactly(op, "linear1 output", a, skip);
        if (w2 != null) exactly(op, "linear2 output", linear(op, "s", a, w2, b2), skip);
        else require(b2 == null, op, "b2 without w2");
        return linearCat(op, skip, low, wc, bc);
    }

    /** gateChainTrain: gateChain's rules for low, skip, gw, gb, w1, b1, w2 (required) and b2; wc (bc) as there, or null (and bc null). */
    public static void gateChainTrain(int[] low, int[] skip, int[] gw, int[] gb, int[] w1, int[] b1, int[] w2, int[] b2,
                                      int[] wc, int[] bc) {
        String op = "gateChainTrain";
        require(w2 != null, op, "w2 is required");
        chainLinears(op, low, skip, gw, gb, w1, b1, w2, b2);
        if (wc != null) linearCat(op, skip, low, wc, bc);
        else require(bc == null, op, "bc without wc");
    }

    /** The training chain's three linears: g = gate(low) of the skip's gate shape, low and the skip alike, linear1 and linear2 C → C. */
    private static void chainLinears(String op, int[] low, int[] skip, int[] gw, int[] gb, int[] w1, int[] b1, int[] w2, int[] b2) {
        gate(op, linear(op, "low", low, gw, gb), skip);
        same(op, "skip", skip, "low", low);
        exactly(op, "linear1 output", linear(op, "u", skip, w1, b1), skip);
        exactly(op, "linear2 output", linear(op, "s", skip, w2, b2), skip);
    }

    /**
     * gateChainCatBackward: low and skip [N,C,H,W]; saved {g [N,3C,H,W], u, a, s, s2 (the skip's
     * shape)}; w {gw [3C,C], w1 [C,C], w2 [C,C], wc [Co,2C] or [Co,2C,1,1]}; gy [N,Co,H,W]; bias: 4
     * flags; into: 10 held gradients or nulls, of low's, the skip's, gw's, [3C], w1's, [C], w2's,
     * [C], wc's and [Co] shapes.
     */
    public static void gateChainCatBackward(int[] low, int[] skip, Tensor[] saved, Tensor[] w, int[] gy, boolean[] bias,
                                            Tensor[] into) {
        String op = "gateChainCatBackward";
        require(saved != null && saved.length == 5 && w != null && w.length == 4 && bias != null && bias.length == 4
                && into != null && into.length == 10, op, "saved must hold 5 tensors, w 4, bias 4 flags, into 10 gradients or nulls");
        for (Tensor t : saved) require(t != null, op, "a saved tensor is missing");
        for (Tensor t : w) require(t != null, op, "a weight is missing");
        chainLinears(op, low, skip, of(w[0]), null, of(w[1]), null, of(w[2]), null);
        gate(op, of(saved[0]), skip);
        String[] names = {"g", "u", "a", "s", "s2"};
        for (int i = 1; i < 5; i++) same(op, "skip", skip, names[i], of(saved[i]));
        int[] y = linearCat(op, skip, low, of(w[3]), null);
        same(op, "y", y, "gy", gy);
        int c = skip[1];
        int[][] want = {low, skip, of(w[0]), {3 * c}, of(w[1]), {c}, of(w[2]), {c}, of(w[3]), {y[1]}};
        String[] into10 = {"low", "skip", "gw", "gb", "w1", "b1", "w2", "b2", "wc", "bc"};
        for (int i = 0; i < 10; i++)
            if (into[i] != null) same(op, into10[i], want[i], into10[i] + "Into", into[i].shape());
    }

    /** a and s [N,C,H,W], g [N,3C,H,W] → out (s's shape). */
    public static int[] gateOut(int[] a, int[] s, int[] g) {
        gate("gateOut", g, s);
        same("gateOut", "s", s, "a", a);
        return s;
    }

    /** gateOut's rules, dout of s's shape → da (s's shape); ds is s's, dg g's. */
    public static int[] gateOutBackward(int[] a, int[] s, int[] g, int[] dout) {
        String op = "gateOutBackward";
        gate(op, g, s);
        same(op, "s", s, "a", a);
        same(op, "s", s, "dout", dout);
        return s;
    }

    /** du [N,C,H,W] and threeC = 3·C → dg [N,3C,H,W]. */
    public static int[] gateInBackward(int[] du, int threeC) {
        String op = "gateInBackward";
        rank4(op, "du", du);
        require(threeC == 3 * du[1], op, "threeC must be 3 × the channels of du " + s(du) + ", got " + threeC);
        return new int[] {du[0], threeC, du[2], du[3]};
    }

    private static void gate(String op, int[] g, int[] s) {
        rank4(op, "s", s);
        exactly(op, "g", g, s[0], 3 * s[1], s[2], s[3]);
    }

    // ------------------------------------------------------------------ upsample

    /** x [N,C,H,W] → [N,C,2H,2W]. */
    public static int[] upsample2x(int[] x) {
        rank4("upsample2x", "x", x);
        return new int[] {x[0], x[1], 2 * x[2], 2 * x[3]};
    }

    /** dy [N,C,2H,2W] (even H and W) → dx [N,C,H,W]. */
    public static int[] upsample2xBackward(int[] dy) {
        String op = "upsample2xBackward";
        rank4(op, "dy", dy);
        require(dy[2] % 2 == 0 && dy[3] % 2 == 0, op, "dy must have even H and W, got " + s(dy));
        return new int[] {dy[0], dy[1], dy[2] / 2, dy[3] / 2};
    }

    // ------------------------------------------------------------------ layout

    /** x [N,C,H,W], paddings ≥ 0 → [N,C,H+top+bottom,W+left+right]. */
    public static int[] pad2d(int[] x, int top, int bottom, int left, int right) {
        String op = "pad2d";
        rank4(op, "x", x);
        require(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, op, "paddings must be ≥ 0, got top " + top
                + ", bottom " + bottom + ", left " + left + ", right " + right);
        return new int[] {x[0], x[1], x[2] + top + bottom, x[3] + left + right};
    }

    /** dy [N,C,Ho,Wo] and an h×w window at (top, left) inside it → dx [N,C,h,w]. */
    public static int[] pad2dBackward(int[] dy, int top, int left, int h, int w) {
        String op = "pad2dBackward";
        rank4(op, "dy", dy);
        require(top >= 0 && left >= 0 && h >= 0 && w >= 0 && top + h <= dy[2] && left + w <= dy[3], op,
                "the crop (" + top + "," + left + ") " + h + "×" + w + " must lie inside dy " + s(dy));
        return new int[] {dy[0], dy[1], h, w};
    }

    /** a [N,Ca,H,W], b [N,Cb,H,W] → [N,Ca+Cb,H,W]. */
    public static int[] concat(int[] a, int[] b) {
        String op = "concat";
        rank4(op, "a", a);
        rank4(op, "b", b);
        require(a[0] == b[0] && a[2] == b[2] && a[3] == b[3], op, "a and b must agree in N, H, W, got " + s(a) + " and " + s(b));
        return new int[] {a[0], a[1] + b[1], a[2], a[3]};
    }

    /** x [N,C,H,W], 0 ≤ c0 ≤ c1 ≤ C → [N,c1−c0,H,W]. */
    public static int[] sliceChannels(int[] x, int c0, int c1) {
        String op = "sliceChannels";
        rank4(op, "x", x);
        require(0 <= c0 && c0 <= c1 && c1 <= x[1], op, "channels [" + c0 + "," + c1 + ") must lie inside x " + s(x));
        return new int[] {x[0], c1 - c0, x[2], x[3]};
    }

    // ------------------------------------------------------------------ loss

    /** logits [N,K,H,W] (none empty), target [N,H,W] → dlogits (logits' shape). */
    public static int[] ceDiceLoss(int[] logits, int[] target) {
        String op = "ceDiceLoss";
        rank4(op, "logits", logits);
        require(logits[0] > 0 && logits[1] > 0 && logits[2] > 0 && logits[3] > 0, op,
                "needs at least one image, class and pixel, got logits " + s(logits));
        exactly(op, "target", target, logits[0], logits[2], logits[3]);
        return logits;
    }

    // ------------------------------------------------------------------ optimiser

    /** p, g, m, v with as many elements each, step ≥ 1. */
    public static void adamw(int[] p, int[] g, int[] m, int[] v, int step) {
        String op = "adamw";
        long n = numel(p);
        require(numel(g) == n && numel(m) == n && numel(v) == n, op, "p, g, m and v must have as many elements each, got p "
                + s(p) + ", g " + s(g) + ", m " + s(m) + ", v " + s(v));
        require(step >= 1, op, "step must be ≥ 1, got " + step);
    }
}
