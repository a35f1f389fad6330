package convunext.backend.parity;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shapes a GPU punishes and the per-op suites leave out, on every backend (the CPU's tiny
 * planes and edge tiles too) against the float64 oracle: the deepest levels' tiny planes (1x1, 1x2, 2x3) with batch 1 and odd or
 * 128+ channel counts (BatchNorm's one-launch rule, LayerNorm, upsample, linear and its split-K
 * weight gradient, gate, concat), 2x2 stride-2 and stem convolutions down to one output pixel,
 * 1-pixel-high / -wide and 4-pixel planes 300 long (upsample, dwconv7, the loss), the fused
 * dwconv7+BatchNorm statistics and the BatchNorm statistics hand-off at the deepest level, and
 * the loss with one image wholly ignored. Tolerances as the ops' own parity tests, except the
 * upsample on 300-long axes: its kernels compute source coordinates in float as PyTorch does
 * (scale rounded first), about 1.5e-5 from the oracle there (the CPU backend's double
 * coordinates are not), so 5e-5.
 */
class DeepLevelShapesParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    @OnEveryBackend void tinyPlanesBatchOne(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 7)) {
            for (int[] s : new int[][]{{1, 3, 1, 2}, {1, 5, 2, 3}, {1, 130, 1, 2}, {2, 3, 1, 1}, {1, 129, 2, 3}}) {
                int n = s[0], c = s[1], h = s[2], w = s[3];
                String tag = java.util.Arrays.toString(s);
                Tensor[] x = p.normalT(1, 0.3, n, c, h, w), g = p.normalT(0.5, 1, c), bt = p.gaussT(c);
                Tensor[] rm = p.gaussT(c), rv = p.uniformT(0.5, 2, c);
                Tensor[] got = p.be.batchnormTrain(x[0], g[0], bt[0], rm[0], rv[0], 0.1f, 1e-5f);
                Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], bt[1], rm[1], rv[1], 0.1f, 1e-5f);
                p.check(tag + " bn y", got, ref, 0, 1e-4);
                p.check(tag + " bn rv", rv[0], rv[1], 1e-4);
                Tensor[] dy = p.normalT(1, 0.2, n, c, h, w);
                Tensor[] gb = p.be.batchnormBackward(x[0], dy[0], g[0], got[1], got[2]);
                Tensor[] gr = p.ref.batchnormBackward(x[1], dy[1], g[1], ref[1], ref[2]);
                p.check(tag + " bn dx", gb, gr, 0, 1e-4);
                p.check(tag + " bn dgamma", gb, gr, 1, 1e-4);
                Tensor[] res = p.normalT(1, 0.3, n, c, h, w);
                Tensor[] fg = p.be.batchnormAddGelu(x[0], res[0], g[0], bt[0], rm[0], rv[0], 0.1f, 1e-5f, true);
                Tensor[] fr = p.ref.batchnormAddGelu(x[1], res[1], g[1], bt[1], rm[1], rv[1], 0.1f, 1e-5f, true);
                p.check(tag + " bnAddGelu", fg, fr, 0, 1.2e-4);
                Tensor[] ln = p.be.layernorm(x[0], g[0], bt[0], 1e-6f), lr = p.ref.layernorm(x[1], g[1], bt[1], 1e-6f);
                p.check(tag + " ln y", ln, lr, 0, 1e-4);
                Tensor[] lb = p.be.layernormBackward(x[0], dy[0], g[0], ln[1], ln[2]);
                Tensor[] lbr = p.ref.layernormBackward(x[1], dy[1], g[1], lr[1], lr[2]);
                p.check(tag + " ln dx", lb, lbr, 0, 1e-4);
                p.check(tag + " ln dgamma", lb, lbr, 1, 1e-4);
                p.check(tag + " up", p.be.upsample2x(x[0]), p.ref.upsample2x(x[1]), 1e-5);
                Tensor[] wt = p.gaussT(7, c), bias = p.gaussT(7);
                p.check(tag + " linear", p.be.linear(x[0], wt[0], bias[0]), p.ref.linear(x[1], wt[1], bias[1]), 1e-5);
                Tensor[] dyl = p.normalT(1, 0.1, n, 7, h, w);
                Tensor[] lg = p.be.linearBackward(x[0], wt[0], dyl[0], true, true);
                Tensor[] lgr = p.ref.linearBackward(x[1], wt[1], dyl[1], true, true);
                p.check(tag + " linear dx", lg, lgr, 0, 1e-5);
                p.check(tag + " linear dw", lg, lgr, 1, 1e-5);
                p.check(tag + " linear db", lg, lgr, 2, 1e-5);
                Tensor[] gg = p.gaussT(n, 3 * c, h, w);
                p.check(tag + " gateIn", p.be.gateIn(gg[0], x[0]), p.ref.gateIn(gg[1], x[1]), 1e-5);
                p.check(tag + " concat", p.be.concat(x[0], res[0]), p.ref.concat(x[1], res[1]), 0);
            }
        }
    }

    @OnEveryBackend void downsampleToOnePixel(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 8)) {
            for (int[] s : new int[][]{{1, 3, 2, 2, 5}, {1, 5, 3, 3, 7}, {2, 33, 2, 3, 65}, {1, 4, 4, 4, 3}}) {
                int n = s[0], ci = s[1], h = s[2], w = s[3], co = s[4];
                boolean stem = h == 4;
                int k = stem ? 7 : 2, st = stem ? 1 : 2, pad = stem ? 3 : 0;
                String tag = "conv " + java.util.Arrays.toString(s);
                Tensor[] x = p.normalT(1, 0.2, n, ci, h, w), wt = p.gaussT(co, ci, k, k), bias = p.gaussT(co);
                Tensor yc = p.be.conv2d(x[0], wt[0], bias[0], st, pad, stem), yr = p.ref.conv2d(x[1], wt[1], bias[1], st, pad, stem);
                p.check(tag + " y", yc, yr, 1e-5);
                Tensor[] dy = p.normalT(1, 0.1, yr.shape());
                Tensor[] gc = p.be.conv2dBackward(x[0], wt[0], dy[0], st, pad, stem, true, true);
                Tensor[] gr = p.ref.conv2dBackward(x[1], wt[1], dy[1], st, pad, stem, true, true);
                p.check(tag + " dx", gc, gr, 0, 1e-5);
                p.check(tag + " dw", gc, gr, 1, 1e-5);
                p.check(tag + " db", gc, gr, 2, 1e-5);
            }
        }
    }

    @OnEveryBackend void extremeAspect(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 9)) {
            for (int[] s : new int[][]{{1, 2, 1, 300}, {1, 2, 300, 1}, {1, 1, 4, 300}, {1, 1, 300, 4}}) {
                int n = s[0], c = s[1], h = s[2], w = s[3];
                String tag = java.util.Arrays.toString(s);
                Tensor[] x = p.normalT(1, 0.3, n, c, h, w);
                p.check(tag + " up", p.be.upsample2x(x[0]), p.ref.upsample2x(x[1]), 5e-5);
                Tensor[] dy2 = p.gaussT(n, c, 2 * h, 2 * w);
                p.check(tag + " up dx", p.be.upsample2xBackward(dy2[0]), p.ref.upsample2xBackward(dy2[1]), 5e-5);
                if (h >= 4 && w >= 4) {
                    Tensor[] wt = p.gaussT(c, 1, 7, 7), bias = p.gaussT(c);
                    p.check(tag + " dw7", p.be.dwconv7(x[0], wt[0], bias[0]), p.ref.dwconv7(x[1], wt[1], bias[1]), 1e-5);
                    Tensor[] dy = p.gaussT(n, c, h, w);
                    Tensor[] gc = p.be.dwconv7Backward(x[0], wt[0], dy[0]), gr = p.ref.dwconv7Backward(x[1], wt[1], dy[1]);
                    p.check(tag + " dw7 dx", gc, gr, 0, 1e-5);
                    p.check(tag + " dw7 dw", gc, gr, 1, 1e-5);
                }
                Tensor[] t = p.up(new float[n * h * w], n, h, w);
                Tensor[] lg = p.normalT(1, 0, n, 3, h, w);
                var lc = p.be.ceDiceLoss(lg[0], t[0]);
                var lr = p.ref.ceDiceLoss(lg[1], t[1]);
                p.check(tag + " loss dlogits", lc.dlogits(), lr.dlogits(), 1e-5);
            }
        }
    }

    @OnEveryBackend void deepLevelFusions(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 12)) {
            for (int[] s : new int[][]{{1, 130, 4, 4}, {1, 3, 4, 5}, {2, 129, 5, 4}}) {
                int n = s[0], c = s[1], h = s[2], w = s[3];
                String tag = java.util.Arrays.toString(s);
                Tensor[] x = p.normalT(1.5, 0.3, n, c, h, w), wt = p.gaussT(c, 1, 7, 7), bias = p.gaussT(c);
                Tensor[] g = p.normalT(0.5, 1.0, c), beta = p.gaussT(c), rm = p.gaussT(c), rv = p.uniformT(0.5, 2.0, c);
                Tensor[] got = p.be.dwconv7Batchnorm(x[0], wt[0], bias[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
                Tensor[] ref = p.ref.dwconv7Batchnorm(x[1], wt[1], bias[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
                p.check(tag + " dwbn y", got, ref, 1, 1e-4);
                p.check(tag + " dwbn rv", rv[0], rv[1], 1e-4);
                Tensor[] res = p.normalT(1, 0.3, n, c, h, w);
                Tensor[] a = p.be.batchnormAddGeluStats(x[0], res[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
                Tensor[] ar = p.ref.batchnormAddGelu(x[1], res[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
                p.check(tag + " bnag out", a[0], ar[0], 1.2e-4);
                Tensor[] t2 = p.be.batchnormTrainStats(a[0], a[4], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
                Tensor[] r2 = p.ref.batchnormTrain(ar[0], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
                p.check(tag + " bn2 y", t2[0], r2[0], 2e-4);
                // linearCat with one empty side and the MLP at the deepest level
                Tensor[] e = p.gaussT(n, 1, h, w), wc = p.gaussT(5, c + 1), bc = p.gaussT(5);
                p.check(tag + " linearCat a empty", p.be.linearCat(e[0], x[0], wc[0], bc[0]), p.ref.linearCat(e[1], x[1], wc[1], bc[1]), 1e-5);
                p.check(tag + " linearCat b empty", p.be.linearCat(x[0], e[0], wc[0], bc[0]), p.ref.linearCat(x[1], e[1], wc[1], bc[1]), 1e-5);
                Tensor[] dyc = p.gaussT(n, 5, h, w);
                Tensor[] lc = p.be.linearCatBackward(x[0], e[0], wc[0], dyc[0], true, true, true);
                Tensor[] lr = p.ref.linearCatBackward(x[1], e[1], wc[1], dyc[1], true, true, true);
                for (int i = 0; i < lr.length; i++)
                    if (lr[i] != null && lr[i].numel() > 0) p.check(tag + " linearCatBackward " + i, lc[i], lr[i], 1e-5);
                Tensor[] w1 = p.gaussT(4 * c, c), b1 = p.gaussT(4 * c), w2 = p.gaussT(c, 4 * c), b2 = p.gaussT(c);
                Tensor[] mc = p.be.mlp(x[0], w1[0], b1[0], w2[0], b2[0], true), mr = p.ref.mlp(x[1], w1[1], b1[1], w2[1], b2[1], true);
                p.check(tag + " mlp", mc, mr, 0, 1e-4);
            }
            // the loss with one class, and with every pixel of one image ignored
            Tensor[] lg = p.normalT(1, 0, 2, 2, 3, 5);
            float[] t = new float[30];
            for (int i = 0; i < 30; i++) t[i] = i < 15 ? 255 : i % 2;
            Tensor[] tt = p.up(t, 2, 3, 5);
            var l1 = p.be.ceDiceLoss(lg[0], tt[0]);
            var r1 = p.ref.ceDiceLoss(lg[1], tt[1]);
            p.check("loss, image 0 ignored, dlogits", l1.dlogits(), r1.dlogits(), 1e-5);
            org.junit.jupiter.api.Assertions.assertEquals(r1.loss(), l1.loss(), 1e-5, "loss, image 0 ignored");
        }
    }
}
