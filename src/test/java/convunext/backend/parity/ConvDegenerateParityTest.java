package convunext.backend.parity;

import convunext.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The convolutions and GEMMs at degenerate shapes on every backend against the float64 oracle
 * ({@link DegenerateCases}): an empty batch, no input channels (K = 0: the output is the bias,
 * the weight gradient is empty and the bias gradient still dy's sums), no output channels (empty
 * outputs, dx = 0), both, and the smallest planes each kernel takes, forward and backward (fresh
 * and added into held gradients). Covers conv2d in each form the model uses (the 7x7 reflect stem,
 * the 2x2 stride-2 downsampling, a zero-padded 3x3, the 1x1 GEMM), linear, linearGelu and its data
 * gradient, the MLP, linearCat and the depthwise 7x7.
 */
class ConvDegenerateParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    /** {k, stride, pad, reflect}. */
    private static final int[][] CONVS = {{7, 1, 3, 1}, {2, 2, 0, 0}, {3, 1, 1, 0}, {1, 1, 0, 0}};

    /** {N, Ci, Co}: empty batch, no input channels, no output channels, neither, nothing. */
    private static final int[][] EMPTY = {{0, 3, 5}, {2, 0, 5}, {2, 3, 0}, {2, 0, 0}, {0, 0, 0}};

    @OnEveryBackend void conv2dEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 41); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] cs : CONVS)
                for (int[] e : EMPTY) {
                    conv(c, cs, e[0], e[1], e[2], 8, 9);
                    conv(c, cs, e[0], e[1], e[2], 48, 50);   // 512+ output pixels: the CPU's blocked weight gradient
                }
        }
    }

    /** The smallest planes: 4x4 for the stem, 2x3 for the downsampling (one output pixel, the odd column dropped), 1x1 for the padded 3x3 and the 1x1. */
    @OnEveryBackend void conv2dTinyPlanes(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 42); DegenerateCases c = new DegenerateCases(p)) {
            int[][] planes = {{4, 4}, {2, 3}, {1, 1}, {1, 1}};
            for (int k = 0; k < CONVS.length; k++)
                for (int[] e : new int[][]{{1, 3, 5}, {1, 0, 5}, {1, 3, 0}}) conv(c, CONVS[k], e[0], e[1], e[2], planes[k][0], planes[k][1]);
        }
    }

    private static void conv(DegenerateCases c, int[] cs, int n, int ci, int co, int h, int w) {
        BackendParity p = c.p;
        int k = cs[0], st = cs[1], pad = cs[2];
        boolean refl = cs[3] != 0;
        String tag = "conv2d k" + k + " s" + st + " p" + pad + (refl ? " reflect" : "") + " x [" + n + "," + ci + "," + h + "," + w + "] Co " + co;
        Tensor[] x = p.gaussT(n, ci, h, w), wt = p.gaussT(co, ci, k, k), bias = p.gaussT(co);
        int[] ys = convunext.backend.OpShapes.conv2d(x[1].shape(), wt[1].shape(), null, st, pad, refl);
        Tensor[] dy = p.gaussT(ys);
        c.cmp(tag + " forward", (be, i) -> be.conv2d(x[i], wt[i], bias[i], st, pad, refl));
        c.cmp(tag + " forward no bias", (be, i) -> be.conv2d(x[i], wt[i], null, st, pad, refl));
        c.cmp(tag + " backward", (be, i) -> be.conv2dBackward(x[i], wt[i], dy[i], st, pad, refl, true, true));
        c.cmp(tag + " backward dw only", (be, i) -> be.conv2dBackward(x[i], wt[i], dy[i], st, pad, refl, false, false));
        Tensor[] hx = p.gaussT(n, ci, h, w), hw = p.gaussT(co, ci, k, k), hb = p.gaussT(co);
        c.cmp(tag + " backward into held", (be, i) -> be.conv2dBackwardInto(x[i], wt[i], dy[i], st, pad, refl, true, true, hx[i], hw[i], hb[i]));
    }

    /**
     * {N, Ci, Co, H, W}: as {@link #EMPTY} on a small plane and on one of 24x24 (the CPU's narrow
     * forward for Co ≤ 4 and its one-pass backward for channel counts that are multiples of 4 and
     * 512+ pixels take those), an empty plane, a 1x1 plane.
     */
    private static final int[][] LINEAR = {{0, 3, 5, 2, 3}, {2, 0, 5, 2, 3}, {2, 3, 0, 2, 3}, {2, 0, 0, 2, 3}, {0, 0, 0, 2, 3},
            {0, 4, 4, 24, 24}, {2, 0, 4, 24, 24}, {2, 4, 0, 24, 24}, {2, 0, 8, 24, 24}, {2, 8, 0, 24, 24},
            {2, 3, 5, 0, 3}, {1, 3, 5, 1, 1}};

    @OnEveryBackend void linearEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 43); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : LINEAR) {
                int n = s[0], ci = s[1], co = s[2], h = s[3], w = s[4];
                String tag = "x [" + n + "," + ci + "," + h + "," + w + "] Co " + co + " ";
                Tensor[] x = p.normalT(1, 0.3, n, ci, h, w), wt = p.gaussT(co, ci), bias = p.gaussT(co), dy = p.gaussT(n, co, h, w);
                c.cmp(tag + "linear", (be, i) -> be.linear(x[i], wt[i], bias[i]));
                c.cmp(tag + "linear no bias", (be, i) -> be.linear(x[i], wt[i], null));
                c.cmp(tag + "linearBackward", (be, i) -> be.linearBackward(x[i], wt[i], dy[i], true, true));
                c.cmp(tag + "linearBackward dw only", (be, i) -> be.linearBackward(x[i], wt[i], dy[i], false, false));
                Tensor[] hx = p.gaussT(n, ci, h, w), hw = p.gaussT(co, ci), hb = p.gaussT(co);
                c.cmp(tag + "linearBackwardInto", (be, i) -> be.linearBackwardInto(x[i], wt[i], dy[i], true, true, hx[i], hw[i], hb[i]));
                c.cmp(tag + "linearGelu keepPre", (be, i) -> be.linearGelu(x[i], wt[i], bias[i], true));
                c.cmp(tag + "linearGelu", (be, i) -> be.linearGelu(x[i], wt[i], bias[i], false));
                // the data gradient through GELU: pre [N,Ci,H,W] is the input side, dy [N,Co,H,W]
                Tensor[] pre = p.gaussT(n, ci, h, w);
                c.cmp(tag + "linearBackwardDataGelu", (be, i) -> be.linearBackwardDataGelu(wt[i], dy[i], pre[i]));
                conv1x1AsLinear(c, tag, x, wt, bias, dy, n, ci, co);
            }
        }
    }

    /** The 1x1 conv2d on the same shapes (the backends' GEMM path). */
    private static void conv1x1AsLinear(DegenerateCases c, String tag, Tensor[] x, Tensor[] wt, Tensor[] bias, Tensor[] dy, int n, int ci, int co) {
        if (x[1].dim(2) == 0) return;   // conv2d takes no empty plane (its kernel is larger than that)
        Tensor[] w4 = {c.p.be.view(wt[0], 0, co, ci, 1, 1), c.p.ref.view(wt[1], 0, co, ci, 1, 1)};
        c.cmp(tag + "conv2d 1x1", (be, i) -> be.conv2d(x[i], w4[i], bias[i], 1, 0, false));
        c.cmp(tag + "conv2d 1x1 backward", (be, i) -> be.conv2dBackward(x[i], w4[i], dy[i], 1, 0, false, true, true));
    }

    /** {N, C, Hd, Co, H, W}: no batch, no input, hidden or output channels, no pixels; small and 24x24 planes (as {@link #LINEAR}). */
    @OnEveryBackend void mlpEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 44); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{0, 3, 8, 3, 3, 4}, {2, 0, 8, 3, 3, 4}, {2, 3, 0, 3, 3, 4}, {2, 3, 8, 0, 3, 4}, {1, 3, 8, 3, 1, 1},
                    {0, 4, 8, 4, 24, 24}, {2, 0, 8, 4, 24, 24}, {2, 4, 0, 4, 24, 24}, {2, 4, 8, 0, 24, 24}, {2, 4, 8, 4, 0, 24}}) {
                int n = s[0], ci = s[1], hd = s[2], co = s[3], h = s[4], w = s[5];
                String tag = "mlp x [" + n + "," + ci + "," + h + "," + w + "] Hd " + hd + " Co " + co;
                Tensor[] x = p.gaussT(n, ci, h, w), w1 = p.gaussT(hd, ci), b1 = p.gaussT(hd), w2 = p.gaussT(co, hd), b2 = p.gaussT(co);
                Tensor[] gy = p.gaussT(n, co, h, w), res = p.gaussT(n, co, h, w);
                c.cmp(tag + " y", (be, i) -> be.mlp(x[i], w1[i], b1[i], w2[i], b2[i], false)[0]);
                c.cmp(tag + " addGelu", (be, i) -> be.mlpAddGelu(x[i], w1[i], b1[i], w2[i], b2[i], res[i]));
                // each backend's saved h and s are its own: compare y and h, then the gradients from its own
                c.cmp(tag + " keep", (be, i) -> Arrays.copyOf(be.mlp(x[i], w1[i], b1[i], w2[i], b2[i], true), 2));
                c.cmp(tag + " backward", (be, i) -> {
                    Tensor[] f = be.mlp(x[i], w1[i], b1[i], w2[i], b2[i], true);
                    return be.mlpBackward(x[i], w1[i], w2[i], gy[i], f[1], f[2], true, true, true);
                });
            }
        }
    }

    /** linearCat (both inputs need a channel) with an empty batch, no output channels, a 1x1 plane. */
    @OnEveryBackend void linearCatEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 45); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{0, 2, 3, 4, 2, 3}, {2, 2, 3, 0, 2, 3}, {1, 2, 3, 4, 1, 1}, {2, 2, 3, 4, 0, 3},
                    {2, 4, 4, 0, 24, 24}, {0, 4, 4, 4, 24, 24}}) {
                int n = s[0], ca = s[1], cb = s[2], co = s[3], h = s[4], w = s[5];
                String tag = "linearCat a [" + n + "," + ca + "," + h + "," + w + "] Cb " + cb + " Co " + co;
                Tensor[] a = p.gaussT(n, ca, h, w), bb = p.gaussT(n, cb, h, w), wt = p.gaussT(co, ca + cb), bias = p.gaussT(co);
                Tensor[] dy = p.gaussT(n, co, h, w);
                c.cmp(tag, (be, i) -> be.linearCat(a[i], bb[i], wt[i], bias[i]));
                c.cmp(tag + " backward", (be, i) -> be.linearCatBackward(a[i], bb[i], wt[i], dy[i], true, true, true));
            }
        }
    }

    /** The depthwise 7x7 with an empty batch or no channels, and on its smallest plane (4x4). */
    @OnEveryBackend void dwconv7Empty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 46); DegenerateCases c = new DegenerateCases(p)) {
            for (int[] s : new int[][]{{0, 3, 5, 6}, {2, 0, 5, 6}, {0, 0, 4, 4}, {1, 1, 4, 4}}) {
                int n = s[0], ch = s[1], h = s[2], w = s[3];
                String tag = "dwconv7 x " + Arrays.toString(s);
                Tensor[] x = p.gaussT(n, ch, h, w), wt = p.gaussT(ch, 1, 7, 7), bias = p.gaussT(ch), dy = p.gaussT(n, ch, h, w);
                c.cmp(tag, (be, i) -> be.dwconv7(x[i], wt[i], bias[i]));
                c.cmp(tag + " backward", (be, i) -> be.dwconv7Backward(x[i], wt[i], dy[i]));
                Tensor[] hx = p.gaussT(n, ch, h, w), hw = p.gaussT(ch, 1, 7, 7), hb = p.gaussT(ch);
                c.cmp(tag + " backward into held", (be, i) -> be.dwconv7BackwardInto(x[i], wt[i], dy[i], hx[i], hw[i], hb[i]));
            }
        }
    }
}
