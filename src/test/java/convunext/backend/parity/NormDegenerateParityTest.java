package convunext.backend.parity;

import convunext.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Normalisation, elementwise, gate, resampling, layout, loss and optimiser ops at degenerate
 * shapes on every backend against the float64 oracle ({@link DegenerateCases}). What the
 * statistics mean there (Backend's BatchNorm and LayerNorm notes):
 * <ul>
 *   <li>Training BatchNorm (and its fusions and backward) over N·H·W ≤ 1 values per channel is
 *       refused, the same message on every backend (OpShapes.batchnormTrain): PyTorch raises for
 *       one value; for none it returns an empty output and leaves the running statistics, but the
 *       batch mean and invstd this API returns would be 0/0. With no channels (C = 0) and
 *       N·H·W > 1 every result is empty.</li>
 *   <li>Eval BatchNorm of an empty x is an empty y.</li>
 *   <li>LayerNorm over no channels: y is empty and, as torch.mean over an empty dimension, the
 *       saved mean and invstd [N,H,W] are NaN; its backward's results are empty.</li>
 * </ul>
 */
class NormDegenerateParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void batchnormEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 51); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{2, 0, 3, 4}, {0, 3, 3, 4}, {0, 0, 3, 4}, {1, 3, 1, 1}, {2, 3, 1, 1}, {2, 3, 0, 4},
                    {2, 0, 4, 5}, {0, 3, 4, 5}, {2, 0, 150, 150}, {1, 3, 4, 4}}) {
                int n = s[0], ch = s[1], h = s[2], w = s[3];
                String tag = "x " + Arrays.toString(s) + " ";
                boolean refuse = (long) n * h * w <= 1;
                Tensor[] x = p.normalT(1, 0.3, s), g = p.normalT(0.5, 1, ch), beta = p.gaussT(ch), dy = p.gaussT(s), res = p.gaussT(s);
                Tensor[] wt = p.gaussT(ch, 1, 7, 7), bias = p.gaussT(ch);
                Tensor[] mean = p.gaussT(ch), invstd = p.uniformT(0.5, 2, ch);
                // fresh running statistics per call, returned with the results (updated in place)
                DegenerateCases.Call train = (be, i) -> {
                    Tensor[] rm = stats(p, i, ch, 0), rv = stats(p, i, ch, 1);
                    Tensor[] r = be.batchnormTrain(x[i], g[i], beta[i], rm[i], rv[i], 0.1f, 1e-5f);
                    return new Tensor[]{r[0], r[1], r[2], rm[i], rv[i]};
                };
                if (refuse) c.refused(tag + "batchnormTrain", "batchnormTrain", Arrays.toString(s), train);
                else c.cmp(tag + "batchnormTrain", train);
                c.cmp(tag + "batchnormEval", (be, i) -> be.batchnormEval(x[i], g[i], beta[i], mean[i], invstd[i], 1e-5f));
                c.cmp(tag + "batchnormBackward", (be, i) -> be.batchnormBackward(x[i], dy[i], g[i], mean[i], invstd[i]));
                for (boolean withRes : new boolean[]{true, false})
                    c.cmp(tag + "batchnormAddGelu" + (withRes ? "" : " no res"), (be, i) -> {
                        Tensor[] rm = stats(p, i, ch, 0), rv = stats(p, i, ch, 1);
                        Tensor[] r = be.batchnormAddGelu(x[i], withRes ? res[i] : null, g[i], beta[i], rm[i], rv[i], 0.1f, 1e-5f, false);
                        return new Tensor[]{r[0], r[1], r[2], rm[i], rv[i]};
                    });
                Tensor[] hx = p.gaussT(s), hg = p.gaussT(ch), hb = p.gaussT(ch);
                c.cmp(tag + "batchnormBackwardInto", (be, i) -> be.batchnormBackwardInto(x[i], dy[i], g[i], mean[i], invstd[i], hx[i], hg[i], hb[i]));
                c.cmp(tag + "batchnormAddGeluBackwardInto", (be, i) -> be.batchnormAddGeluBackwardInto(x[i], dy[i],
                        i == 0 ? p.be.batchnormAddGeluSaved(res[0]) : res[1], g[i], mean[i], invstd[i], null, null, null, null));
                if (h >= 4 && w >= 4) {
                    c.cmp(tag + "dwconv7Batchnorm", (be, i) -> {
                        Tensor[] rm = stats(p, i, ch, 0), rv = stats(p, i, ch, 1);
                        return be.dwconv7Batchnorm(x[i], wt[i], bias[i], g[i], beta[i], rm[i], rv[i], 0.1f, 1e-5f);
                    });
                    c.cmp(tag + "dwconv7BatchnormBackwardInto", (be, i) -> {
                        Tensor z = be.dwconv7(x[i], wt[i], bias[i]);
                        return be.dwconv7BatchnormBackwardInto(x[i], wt[i], z, dy[i], g[i], mean[i], invstd[i], null, null, null, null, null);
                    });
                }
            }
        }
    }

    /** Running statistics [C] (mean 0-ish, variance in [0.5, 2)), fresh and the same on both sides. */
    private static Tensor[] stats(BackendParity p, int i, int ch, int which) {
        java.util.Random r = new java.util.Random(ch * 2L + which);
        float[] v = new float[ch];
        for (int k = 0; k < ch; k++) v[k] = (float) (which == 0 ? r.nextGaussian() : 0.5 + 1.5 * r.nextDouble());
        return p.up(v, ch);
    }

    @OnEveryBackend void layernormEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 52); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{2, 0, 3, 4}, {0, 3, 3, 4}, {2, 3, 0, 4}, {1, 3, 1, 1}, {2, 0, 24, 24}, {0, 4, 24, 24}}) {
                String tag = "layernorm x " + Arrays.toString(s);
                int ch = s[1];
                Tensor[] x = p.normalT(1, 0.3, s), g = p.normalT(0.5, 1, ch), beta = p.gaussT(ch), dy = p.gaussT(s);
                c.cmp(tag, (be, i) -> be.layernorm(x[i], g[i], beta[i], 1e-6f));
                if (ch == 0) {   // the statistics of no channels are NaN as torch.mean's (not merely the oracle's)
                    Tensor[] f = p.be.layernorm(x[0], g[0], beta[0], 1e-6f);
                    for (int k = 1; k < 3; k++)
                        for (float v : p.be.download(f[k])) org.junit.jupiter.api.Assertions.assertTrue(Float.isNaN(v), tag + " statistic " + k + ": " + v);
                }
                c.cmp(tag + " backward", (be, i) -> {
                    Tensor[] f = be.layernorm(x[i], g[i], beta[i], 1e-6f);
                    return be.layernormBackward(x[i], dy[i], g[i], f[1], f[2]);
                });
                Tensor[] hx = p.gaussT(s), hg = p.gaussT(ch), hb = p.gaussT(ch);
                c.cmp(tag + " backward into held", (be, i) -> {
                    Tensor[] f = be.layernorm(x[i], g[i], beta[i], 1e-6f);
                    return be.layernormBackwardInto(x[i], dy[i], g[i], f[1], f[2], hx[i], hg[i], hb[i]);
                });
            }
        }
    }

    /** Elementwise ops, the gate, upsampling, layout and AdamW with no elements. */
    @OnEveryBackend void elementwiseEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 53); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{0, 3, 2, 3}, {2, 0, 2, 3}, {1, 2, 1, 1}}) {
                int n = s[0], ch = s[1], h = s[2], w = s[3];
                String tag = "x " + Arrays.toString(s) + " ";
                Tensor[] x = p.gaussT(s), y = p.gaussT(s), g = p.gaussT(n, 3 * ch, h, w), held = p.gaussT(n, 3 * ch, h, w);
                c.cmp(tag + "gelu", (be, i) -> be.gelu(x[i]));
                c.cmp(tag + "geluBackward", (be, i) -> be.geluBackward(x[i], y[i]));
                c.cmp(tag + "add", (be, i) -> be.add(x[i], y[i]));
                c.cmp(tag + "addGelu", (be, i) -> be.addGelu(x[i], y[i], true));
                c.cmp(tag + "gateIn", (be, i) -> be.gateIn(g[i], x[i]));
                c.cmp(tag + "gateOut", (be, i) -> be.gateOut(x[i], y[i], g[i]));
                c.cmp(tag + "gateOutBackward", (be, i) -> be.gateOutBackward(x[i], y[i], g[i], x[i]));
                c.cmp(tag + "gateInBackward", (be, i) -> be.gateInBackward(x[i], 3 * ch));
                c.cmp(tag + "gateInBackwardInto", (be, i) -> be.gateInBackwardInto(x[i], 3 * ch, held[i]));
                c.cmp(tag + "upsample2x", (be, i) -> be.upsample2x(x[i]));
                Tensor[] dy2 = p.gaussT(n, ch, 2 * h, 2 * w);
                c.cmp(tag + "upsample2xBackward", (be, i) -> be.upsample2xBackward(dy2[i]));
                c.cmp(tag + "pad2d", (be, i) -> be.pad2d(x[i], 1, 0, 2, 1));
                Tensor[] dyp = p.gaussT(n, ch, h + 1, w + 3);
                c.cmp(tag + "pad2dBackward", (be, i) -> be.pad2dBackward(dyp[i], 1, 2, h, w));
                c.cmp(tag + "concat", (be, i) -> be.concat(x[i], y[i]));
                c.cmp(tag + "sliceChannels", (be, i) -> be.sliceChannels(g[i], ch, 2 * ch));
                if (x[1].numel() == 0) c.cmp(tag + "adamw", (be, i) -> {
                    Tensor[] pp = p.up(p.ref.download(x[1]), s), m = p.up(p.ref.download(y[1]), s), v = p.up(new float[x[1].size()], s);
                    be.adamw(pp[i], y[i], m[i], v[i], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, 1);
                    return new Tensor[]{pp[i], m[i], v[i]};
                });
                Tensor[] lg = p.gaussT(s), t = p.up(new float[n * h * w], n, h, w);
                if (x[1].numel() == 0) c.refused(tag + "ceDiceLoss", "ceDiceLoss", Arrays.toString(s), (be, i) -> be.ceDiceLoss(lg[i], t[i]).dlogits());
            }
        }
    }

    /** The Up block's gate chain (inference and training) with an empty batch or no channels. */
    @OnEveryBackend void gateChainEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 54); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{0, 3, 4, 2, 3}, {2, 0, 4, 2, 3}, {2, 3, 0, 2, 3}, {1, 3, 4, 1, 1},
                    {0, 4, 4, 24, 24}, {2, 4, 0, 24, 24}, {2, 32, 0, 24, 24}}) {
                int n = s[0], ch = s[1], co = s[2], h = s[3], w = s[4];
                String tag = "gateChain low [" + n + "," + ch + "," + h + "," + w + "] Co " + co;
                Tensor[] low = p.gaussT(n, ch, h, w), skip = p.gaussT(n, ch, h, w), gy = p.gaussT(n, co, h, w);
                Tensor[] gw = p.gaussT(3 * ch, ch), gb = p.gaussT(3 * ch), w1 = p.gaussT(ch, ch), b1 = p.gaussT(ch);
                Tensor[] w2 = p.gaussT(ch, ch), b2 = p.gaussT(ch), wc = p.gaussT(co, 2 * ch), bc = p.gaussT(co);
                c.cmp(tag, (be, i) -> be.gateChain(low[i], skip[i], gw[i], gb[i], w1[i], b1[i], w2[i], b2[i], wc[i], bc[i]));
                c.cmp(tag + " train", (be, i) -> be.gateChainTrain(low[i], skip[i], gw[i], gb[i], w1[i], b1[i], w2[i], b2[i], wc[i], bc[i]));
                c.cmp(tag + " backward", (be, i) -> {
                    Tensor[] f = be.gateChainTrain(low[i], skip[i], gw[i], gb[i], w1[i], b1[i], w2[i], b2[i], wc[i], bc[i]);
                    return be.gateChainCatBackward(low[i], skip[i], Arrays.copyOf(f, 5), new Tensor[]{gw[i], w1[i], w2[i], wc[i]}, gy[i],
                            new boolean[]{true, true, true, true}, true, true, new Tensor[10]);
                });
            }
        }
    }
}
