package convunext.backend.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import convunext.tensor.Tensor;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Empty extents on every backend against the float64 oracle: an empty batch (N = 0) and no channels
 * (Ci = 0, Co = 0, C = 0) give the oracle's shapes and its values (an empty sum is 0; with Ci = 0
 * the bias gradient is still dy's row sums), never a launch with an empty grid, which the CUDA
 * launcher refuses (conv2d's data and weight gradients, BatchNorm's one-block-per-channel kernels
 * launched such grids; LayerNorm's backward divided by N*C = 0 sizing its reduction), nor one
 * with a channel that is not there (batchnormTrainStats). Exact comparisons: every value is an empty sum or a plain row sum of few
 * terms compared at 1e-6. (On the CPU, with Co = 0 the 1x1 path threw in VectorOps.linearNarrow,
 * and with Ci = 0 the conv2d bias gradient was 0 instead of dy's row sums: CpuEmptyShapes now.
 * More shapes and ops: ConvDegenerateParityTest, NormDegenerateParityTest.)
 */
class EmptyShapesParityTest {
    @RegisterExtension static final BackendParity.Backends BACKENDS = new BackendParity.Backends();

    /** {k, stride, pad, reflect}: the stem, the 2x2 downsampling, a 3x3 zero-padded "any" shape, the 1x1 (a GEMM). */
    private static final int[][] CONVS = {{7, 1, 3, 1}, {2, 2, 0, 0}, {3, 1, 1, 0}, {1, 1, 0, 0}};

    @OnEveryBackend void convEmptyBatch(String b) throws Exception { conv(b, 31, 0, 3, 5); }

    @OnEveryBackend void convNoInputChannels(String b) throws Exception { conv(b, 32, 2, 0, 5); }

    @OnEveryBackend void convNoOutputChannels(String b) throws Exception { conv(b, 33, 2, 3, 0); }

    private static void conv(String backend, long seed, int n, int ci, int co) throws Exception {
        try (BackendParity p = BACKENDS.open(backend, seed)) {
            for (int[] cs : CONVS) {
                int k = cs[0], st = cs[1], pad = cs[2];
                boolean refl = cs[3] != 0;
                String tag = "conv2d k" + k + " s" + st + " p" + pad + (refl ? " reflect" : "") + " x [" + n + "," + ci + ",8,9] Co " + co;
                Tensor[] x = p.gaussT(n, ci, 8, 9), w = p.gaussT(co, ci, k, k), bias = p.gaussT(co);
                Tensor yr = p.ref.conv2d(x[1], w[1], bias[1], st, pad, refl);
                Tensor yc = p.be.conv2d(x[0], w[0], bias[0], st, pad, refl);
                same(p, tag + " y", yc, yr);
                Tensor[] dy = p.normalT(1, 0.3, yr.shape());
                Tensor[] gr = p.ref.conv2dBackward(x[1], w[1], dy[1], st, pad, refl, true, true);
                Tensor[] gc = p.be.conv2dBackward(x[0], w[0], dy[0], st, pad, refl, true, true);
                String[] names = {"dx", "dw", "db"};
                for (int i = 0; i < 3; i++) same(p, tag + " " + names[i], gc[i], gr[i]);
                // the same gradients added into held ones
                Tensor[] hx = p.gaussT(n, ci, 8, 9), hw = p.gaussT(co, ci, k, k), hb = p.gaussT(co);
                Tensor[] ir = p.ref.conv2dBackwardInto(x[1], w[1], dy[1], st, pad, refl, true, true, hx[1], hw[1], hb[1]);
                Tensor[] ic = p.be.conv2dBackwardInto(x[0], w[0], dy[0], st, pad, refl, true, true, hx[0], hw[0], hb[0]);
                for (int i = 0; i < 3; i++) same(p, tag + " into held " + names[i], ic[i], ir[i]);
            }
        }
    }

    @OnEveryBackend void batchnormNoChannels(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 34)) {
            int n = 2, c = 0, h = 5, w = 7;
            for (int count : new int[]{n * h * w, 2 * 150 * 150}) {   // the one-launch and the two-launch rule
                int hh = count == n * h * w ? h : 150, ww = count == n * h * w ? w : 150;
                String tag = "batchnorm x [" + n + ",0," + hh + "," + ww + "]";
                Tensor[] x = p.gaussT(n, c, hh, ww), g = p.gaussT(c), beta = p.gaussT(c), rm = p.gaussT(c), rv = p.gaussT(c);
                Tensor[] got = p.be.batchnormTrain(x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
                Tensor[] ref = p.ref.batchnormTrain(x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
                for (int i = 0; i < 3; i++) same(p, tag + " train " + i, got[i], ref[i]);
                Tensor[] fg = p.be.batchnormAddGeluStats(x[0], x[0], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f, true);
                Tensor[] fr = p.ref.batchnormAddGeluStats(x[1], x[1], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f, true);
                same(p, tag + " addGelu out", fg[0], fr[0]);
                Tensor[] tg = p.be.batchnormTrainStats(fg[0], fg[4], g[0], beta[0], rm[0], rv[0], 0.1f, 1e-5f);
                Tensor[] tr = p.ref.batchnormTrainStats(fr[0], fr[4], g[1], beta[1], rm[1], rv[1], 0.1f, 1e-5f);
                same(p, tag + " trainStats y", tg[0], tr[0]);
                Tensor[] gb = p.be.batchnormBackward(x[0], x[0], g[0], got[1], got[2]);
                Tensor[] gr = p.ref.batchnormBackward(x[1], x[1], g[1], ref[1], ref[2]);
                for (int i = 0; i < 3; i++) same(p, tag + " backward " + i, gb[i], gr[i]);
                Tensor[] ab = p.be.batchnormAddGeluBackwardInto(x[0], x[0], fg[3], g[0], got[1], got[2], null, null, null, null);
                Tensor[] ar = p.ref.batchnormAddGeluBackwardInto(x[1], x[1], fr[3], g[1], ref[1], ref[2], null, null, null, null);
                for (int i = 0; i < 4; i++) same(p, tag + " addGelu backward " + i, ab[i], ar[i]);
            }
        }
    }

    /** LayerNorm's backward without channels (Launcher.chunks divided by N*C = 0), and with an empty batch. */
    @OnEveryBackend void layernormBackwardEmpty(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 36)) {
            for (int[] s : new int[][]{{2, 0, 3, 4}, {0, 3, 3, 4}}) {
                String tag = "layernormBackward x " + java.util.Arrays.toString(s);
                int c = s[1];
                Tensor[] x = p.gaussT(s), dy = p.gaussT(s), g = p.gaussT(c), beta = p.gaussT(c);
                Tensor[] fr = p.ref.layernorm(x[1], g[1], beta[1], 1e-6f), fc = p.be.layernorm(x[0], g[0], beta[0], 1e-6f);
                Tensor[] gr = p.ref.layernormBackward(x[1], dy[1], g[1], fr[1], fr[2]);
                Tensor[] gc = p.be.layernormBackward(x[0], dy[0], g[0], fc[1], fc[2]);
                for (int i = 0; i < 3; i++) same(p, tag + " " + i, gc[i], gr[i]);
            }
        }
    }

    /**
     * batchnormTrainStats of a channel-less x with stats of its shape ([0, 1, 4]): nothing to do.
     * Its apply grid had max(C, 1) = 1 channel, so the kernel read gamma[0] / beta[0] and wrote
     * mean[0], invstd[0], runMean[0], runVar[0] and P elements of y, all outside the empty tensors:
     * here the running statistics are empty views into a buffer whose other elements must stay.
     */
    @OnEveryBackend void batchnormTrainStatsNoChannelsWritesNothing(String b) throws Exception {
        try (BackendParity p = BACKENDS.open(b, 35)) {
            float[] guard = {1, 2, 3, 4, 5, 6, 7, 8};
            Tensor base = p.up(guard, 8)[0];
            Tensor rm = p.be.view(base, 3, 0), rv = p.be.view(base, 5, 0), g = p.be.view(base, 1, 0), beta = p.be.view(base, 6, 0);
            Tensor x = p.gaussT(2, 0, 5, 7)[0], stats = p.be.zeros(0, 1, 4);
            Tensor[] y = p.be.batchnormTrainStats(x, stats, g, beta, rm, rv, 0.1f, 1e-5f);
            assertArrayEquals(new int[]{2, 0, 5, 7}, y[0].shape(), "y");
            assertArrayEquals(guard, p.be.download(base), "the buffer around the empty running statistics");
        }
    }

    /** Same shape and values (1e-6 normwise where the oracle has non-zero values, else exactly). */
    private static void same(BackendParity p, String what, Tensor got, Tensor want) {
        if (want == null) { assertNull(got, what + ": null as the oracle's"); return; }
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] r = p.ref.download(want), g = p.be.download(got);
        boolean zero = true;
        for (float v : r) zero &= v == 0f;
        if (zero) assertArrayEquals(r, g, what);
        else p.check(what, got, want, 1e-6);
    }
}
