package convunext.nn;

import convunext.backend.Backend;
import convunext.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * An inference-only transform of a {@link ConvUNeXt}: BatchNorm (eval mode) folded into the
 * neighbouring weights, and a forward pass that keeps nothing for a backward (no tape; every
 * activation released as soon as its last use is done, the MLP's hidden tensor never written).
 *
 * <p>BatchNorm in eval is per channel y = a·x + c with a = γ/√(running_var + ε) and
 * c = β − a·running_mean, so a layer before it absorbs it (W' = a·W row by row, b' = a·b + c):
 * the stem's 7×7 conv (in_conv.1), each block's depthwise conv (norm1) and pwconv2 (norm2); and a
 * layer after it absorbs it when nothing pads in between (W' = W·a column by column,
 * b' = b + W·c): each Down's 2×2 stride-2 conv (no padding). The Up's norm runs as an op (on the
 * quarter-size low path; its bilinear upsample is followed by zero padding for odd sizes, which
 * folding would not commute with). LayerNorm depends on each pixel's statistics and is never
 * folded. Each Up block's linear2 is folded into the 1×1 conv after it (two linear maps in a row,
 * {@link #foldLinear2}). Arithmetic of the folds in float64, rounded once.
 *
 * <p>A snapshot: built from the model's current parameters and running statistics (read from
 * its backend by state_dict name), independent of it afterwards; rebuild after training.
 * Tested against the unfolded eval forward (InferenceModelTest).
 */
public final class InferenceModel implements AutoCloseable {
    private final Backend be;
    private final ConvUNeXt.Config config;
    private final List<Tensor> owned = new ArrayList<>();
    private final Conv stem;
    private final Norm2 stemNorm;   // null when folded
    private final Block stemBlock;
    private final Down[] downs = new Down[4];
    private final Up[] ups = new Up[4];
    private final Conv out;

    private record Conv(Tensor w, Tensor b) {}

    /** A norm run as an op: LayerNorm, or BatchNorm (eval) where it cannot be folded. */
    private record Norm2(boolean layer, Tensor g, Tensor b, Tensor mean, Tensor var) {}

    /** dwconv (+ folded norm1), norm1 as an op (LayerNorm), the MLP (+ folded norm2), norm2 as an op. */
    private record Block(Conv dw, Norm2 norm1, Tensor w1, Tensor b1, Conv pw2, Norm2 norm2) {}

    private record Down(Norm2 norm, Conv conv, Block[] blocks) {}

    /** conv1x1 with linear2 folded in (see {@link #foldLinear2}). */
    private record Up(Norm2 norm, Conv gate, Conv lin1, Conv conv1x1, Block block) {}

    private InferenceModel(ConvUNeXt m) {
        this.be = m.backend();
        this.config = m.config;
        ParamStore ps = m.params;
        boolean bn = config.norm() == Norm.BATCH;
        HostConv s = conv(ps, "in_conv.0");
        stem = bn ? foldAfter(ps, s, "in_conv.1") : upload(s);
        stemNorm = bn ? null : norm(ps, "in_conv.1");
        stemBlock = block(ps, "in_conv.3");
        String[] dn = {"down1", "down2", "down3", "down4"};
        for (int d = 0; d < 4; d++) {
            HostConv c = conv(ps, dn[d] + ".1");
            List<Block> bl = new ArrayList<>();
            for (int i = 2; ps.get(dn[d] + "." + i + ".dwconv.weight") != null; i++) bl.add(block(ps, dn[d] + "." + i));
            downs[d] = bn ? new Down(null, foldBefore(ps, c, dn[d] + ".0"), bl.toArray(new Block[0]))
                    : new Down(norm(ps, dn[d] + ".0"), upload(c), bl.toArray(new Block[0]));
        }
        String[] un = {"up1", "up2", "up3", "up4"};
        for (int u = 0; u < 4; u++) {
            String p = un[u];
            HostConv c1 = conv(ps, p + ".conv1x1");
            ups[u] = new Up(norm(ps, p + ".norm"), upload(conv(ps, p + ".gate")), upload(conv(ps, p + ".linear1")),
                    upload(foldLinear2(conv(ps, p + ".linear2"), matrix(c1))), block(ps, p + ".conv.0"));
        }
        out = upload(matrix(conv(ps, "out_conv.0")));
    }

    /** Folds the model's current weights; the caller closes the result. */
    public static InferenceModel of(ConvUNeXt model) { return new InferenceModel(model); }

    public ConvUNeXt.Config config() { return config; }

    /**
     * Logits [N,classes,H,W] of the eval-mode model (the caller releases them). A failure part way
     * (a device out of memory at a large tile) releases every activation made so far: a Segmenter
     * or a Spark task goes on to its next image, and the device's pool would otherwise hold them
     * for the life of the process.
     */
    public Tensor forward(Tensor input) {
        int[] sh = input.shape();
        if (sh.length != 4 || sh[1] != config.inChannels() || sh[2] < ConvUNeXt.MIN_SIDE || sh[3] < ConvUNeXt.MIN_SIDE)
            throw new IllegalArgumentException("input must be [N," + config.inChannels() + ",H,W] with H,W ≥ " + ConvUNeXt.MIN_SIDE
                    + ", got " + java.util.Arrays.toString(sh));
        Pass p = new Pass();
        try {
            Tensor logits = p.run(input);
            p.live.remove(logits);
            return logits;
        } finally {
            for (Tensor t : p.live) be.release(t);   // empty unless a backend call threw
        }
    }

    /** One forward: the activations it holds ({@link #live}: made by it and not yet released). */
    private final class Pass {
        final Set<Tensor> live = Collections.newSetFromMap(new IdentityHashMap<>());

        private Tensor keep(Tensor t) {
            live.add(t);
            return t;
        }

        private void free(Tensor t) {
            live.remove(t);
            be.release(t);
        }

        /** Releases old, returns fresh (old → fresh in one line). */
        private Tensor swap(Tensor old, Tensor fresh) {
            keep(fresh);
            free(old);
            return fresh;
        }

        Tensor run(Tensor input) {
            Tensor y = keep(be.conv2d(input, stem.w, stem.b, 1, 3, true));
            if (stemNorm != null) y = swap(y, norm(stemNorm, y));
            y = swap(y, be.gelu(y));
            Tensor[] skips = new Tensor[4];
            skips[0] = blockOwning(stemBlock, y);
            Tensor x = skips[0];
            for (int d = 0; d < 4; d++) {
                Down dn = downs[d];
                Tensor z;
                if (dn.norm == null) {
                    z = keep(be.conv2d(x, dn.conv.w, dn.conv.b, 2, 0, false));
                } else {
                    Tensor n = norm(dn.norm, x);
                    z = keep(be.conv2d(n, dn.conv.w, dn.conv.b, 2, 0, false));
                    free(n);
                }
                for (Block b : dn.blocks) z = blockOwning(b, z);
                if (d < 3) skips[d + 1] = z;
                x = z;
            }
            for (int u = 0; u < 4; u++) {
                Tensor skip = skips[3 - u];
                Tensor next = up(ups[u], x, skip);
                free(x);
                free(skip);
                x = next;
            }
            Tensor logits = keep(be.linear(x, out.w, out.b));
            free(x);
            return logits;
        }

        /** Block output; releases nothing of x (the caller owns it). */
        private Tensor block(Block b, Tensor x) {
            Tensor y = keep(be.dwconv7(x, b.dw.w, b.dw.b));
            if (b.norm1 != null) y = swap(y, norm(b.norm1, y));
            if (b.norm2 == null) {   // BatchNorm folded: residual and GELU in the MLP's last GEMM
                Tensor out = keep(be.mlpAddGelu(y, b.w1, b.b1, b.pw2.w, b.pw2.b, x));
                free(y);
                return out;
            }
            Tensor[] m = be.mlp(y, b.w1, b.b1, b.pw2.w, b.pw2.b, false);
            for (Tensor t : m) if (t != null) keep(t);
            free(y);
            y = swap(m[0], norm(b.norm2, m[0]));
            Tensor[] r = be.addGelu(x, y, false);
            for (Tensor t : r) if (t != null) keep(t);
            free(y);
            return r[0];
        }

        /** A block that takes ownership of its input (releases it). */
        private Tensor blockOwning(Block b, Tensor x) {
            Tensor y = block(b, x);
            free(x);
            return y;
        }

        private Tensor up(Up u, Tensor low, Tensor skip) {
            Tensor l = keep(norm(u.norm, low));
            l = swap(l, be.upsample2x(l));
            int dy = skip.dim(2) - l.dim(2), dx = skip.dim(3) - l.dim(3);
            if (dy != 0 || dx != 0) l = swap(l, be.pad2d(l, dy / 2, dy - dy / 2, dx / 2, dx - dx / 2));
            // gate → gateIn → linear1 → gateOut → conv1x1 (linear2 folded in) over [·; low], one backend op
            Tensor y = keep(be.gateChain(l, skip, u.gate.w, u.gate.b, u.lin1.w, u.lin1.b, null, null, u.conv1x1.w, u.conv1x1.b));
            free(l);
            return blockOwning(u.block, y);
        }

        /** The norm's output (kept by the caller: {@link #keep} or {@link #swap}). */
        private Tensor norm(Norm2 n, Tensor x) {
            if (n.layer) {
                Tensor[] r = be.layernorm(x, n.g, n.b, Layers.Norm2d.LN_EPS);
                be.release(r[1]);
                be.release(r[2]);
                return r[0];
            }
            return be.batchnormEval(x, n.g, n.b, n.mean, n.var, Layers.Norm2d.BN_EPS);
        }
    }

    // ------------------------------------------------------------------ building

    /** Host copy of a conv's or linear's weight and bias, with its weight shape. */
    private record HostConv(float[] w, int[] shape, float[] b) {}

    private static HostConv conv(ParamStore ps, String prefix) {
        ParamStore.Entry w = entry(ps, prefix + ".weight"), b = entry(ps, prefix + ".bias");
        return new HostConv(ps.read(w), w.shape, ps.read(b));
    }

    private static ParamStore.Entry entry(ParamStore ps, String name) {
        ParamStore.Entry e = ps.get(name);
        if (e == null) throw new IllegalStateException("InferenceModel: the model has no '" + name + "'");
        return e;
    }

    /** A 1×1 conv weight [Co,Ci,1,1] as the [Co,Ci] matrix linear takes. */
    private static HostConv matrix(HostConv c) {
        return new HostConv(c.w, new int[] {c.shape[0], c.shape[1]}, c.b);
    }

    /** BatchNorm's eval map as {a, c} per channel: y = a·x + c. */
    private static double[][] affine(ParamStore ps, String prefix) {
        float[] g = ps.read(entry(ps, prefix + ".weight")), b = ps.read(entry(ps, prefix + ".bias"));
        float[] mean = ps.read(entry(ps, prefix + ".running_mean")), var = ps.read(entry(ps, prefix + ".running_var"));
        double[][] ac = new double[2][g.length];
        for (int i = 0; i < g.length; i++) {
            ac[0][i] = g[i] / Math.sqrt(var[i] + (double) Layers.Norm2d.BN_EPS);
            ac[1][i] = b[i] - ac[0][i] * mean[i];
        }
        return ac;
    }

    /** conv then BN: W'[o] = a[o]·W[o], b' = a·b + c. */
    private Conv foldAfter(ParamStore ps, HostConv c, String bnPrefix) {
        double[][] ac = affine(ps, bnPrefix);
        int co = c.shape[0], per = c.w.length / co;
        float[] w = new float[c.w.length], b = new float[co];
        for (int o = 0; o < co; o++) {
            for (int k = 0; k < per; k++) w[o * per + k] = (float) (ac[0][o] * c.w[o * per + k]);
            b[o] = (float) (ac[0][o] * c.b[o] + ac[1][o]);
        }
        return upload(new HostConv(w, c.shape, b));
    }

    /** BN then conv (no padding): W'[o,i,·] = W[o,i,·]·a[i], b'[o] = b[o] + Σ_{i,·} W[o,i,·]·c[i]. */
    private Conv foldBefore(ParamStore ps, HostConv c, String bnPrefix) {
        double[][] ac = affine(ps, bnPrefix);
        int co = c.shape[0], ci = c.shape[1], kk = c.w.length / (co * ci);
        float[] w = new float[c.w.length], b = new float[co];
        for (int o = 0; o < co; o++) {
            double bias = c.b[o];
            for (int i = 0; i < ci; i++)
                for (int k = 0; k < kk; k++) {
                    int e = (o * ci + i) * kk + k;
                    w[e] = (float) (c.w[e] * ac[0][i]);
                    bias += c.w[e] * ac[1][i];
                }
            b[o] = (float) bias;
        }
        return upload(new HostConv(w, c.shape, b));
    }

    /**
     * The Up block's linear2 folded into the 1×1 conv that follows it: conv1x1 over [W2·s + b2; low]
     * is Wc·[W2·s + b2; low] + bc = [Wa·W2 | Wb]·[s; low] + (bc + Wa·b2), Wc = [Wa | Wb] split at
     * column C. Nothing pads or normalises between the two, so this is exact up to rounding, and it
     * saves linear2's C² multiply-adds per pixel (a seventh of the chain's at Co = C).
     */
    private static HostConv foldLinear2(HostConv lin2, HostConv wc) {
        int c = lin2.shape[0], co = wc.shape[0], k = wc.shape[1];
        if (lin2.shape[1] != c || k != 2 * c)
            throw new IllegalStateException("InferenceModel: linear2 " + java.util.Arrays.toString(lin2.shape)
                    + " does not fit conv1x1 " + java.util.Arrays.toString(wc.shape));
        float[] w = wc.w.clone(), b = new float[co];
        for (int o = 0; o < co; o++) {
            for (int j = 0; j < c; j++) {
                double t = 0;
                for (int m = 0; m < c; m++) t += (double) wc.w[o * k + m] * lin2.w[m * c + j];
                w[o * k + j] = (float) t;
            }
            double bias = wc.b[o];
            for (int m = 0; m < c; m++) bias += (double) wc.w[o * k + m] * lin2.b[m];
            b[o] = (float) bias;
        }
        return new HostConv(w, wc.shape, b);
    }

    private Block block(ParamStore ps, String p) {
        boolean bn = config.norm() == Norm.BATCH;
        HostConv dw = conv(ps, p + ".dwconv"), pw1 = conv(ps, p + ".pwconv1"), pw2 = conv(ps, p + ".pwconv2");
        Conv w1 = upload(pw1);
        return new Block(bn ? foldAfter(ps, dw, p + ".norm1") : upload(dw), bn ? null : norm(ps, p + ".norm1"), w1.w, w1.b,
                bn ? foldAfter(ps, pw2, p + ".norm2") : upload(pw2), bn ? null : norm(ps, p + ".norm2"));
    }

    private Norm2 norm(ParamStore ps, String prefix) {
        boolean layer = config.norm() == Norm.LAYER;
        Tensor g = up(ps, prefix + ".weight"), b = up(ps, prefix + ".bias");
        return layer ? new Norm2(true, g, b, null, null)
                : new Norm2(false, g, b, up(ps, prefix + ".running_mean"), up(ps, prefix + ".running_var"));
    }

    private Tensor up(ParamStore ps, String name) {
        ParamStore.Entry e = entry(ps, name);
        return own(be.upload(ps.read(e), e.shape));
    }

    private Conv upload(HostConv c) {
        return new Conv(own(be.upload(c.w, c.shape)), own(be.upload(c.b, c.b.length)));
    }

    private Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    @Override public void close() {
        for (Tensor t : owned) be.release(t);
        owned.clear();
    }
}
