package convunext.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.cpu.CpuBackend;
import convunext.nn.ConvUNeXt;
import convunext.nn.Norm;
import convunext.optim.AdamW;
import convunext.tensor.Tensor;
import convunext.train.TrainStep;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The FLOP floor (bench --anchors) counts every multiply-add of the step through TimedBackend:
 * a fused op must count what its parts count (dwconv7Batchnorm went uncounted for a while: the
 * floor dropped by the depthwise convolutions' 1.5 GFLOP). Checked against a closed form of
 * ConvUNeXt's multiply-adds for one training step with batch norm.
 */
class TimedBackendFlopsTest {
    @Test void fusedDwconvBatchnormCountsTheConvolution() {
        CpuBackend be = new CpuBackend();
        TimedBackend tb = new TimedBackend(be);
        SplittableRandom r = new SplittableRandom(3);
        int n = 2, c = 3, h = 9, w = 11;
        Tensor x = up(be, r, n, c, h, w), k = up(be, r, c, 1, 7, 7), b = up(be, r, c), g = up(be, r, c), beta = up(be, r, c);
        Tensor rm = up(be, r, c), rv = be.upload(new float[] {1, 1, 1}, c);
        tb.dwconv7(x, k, b);
        double plain = tb.macFlops();
        tb.reset();
        tb.dwconv7Batchnorm(x, k, b, g, beta, rm, rv, 0.1f, 1e-5f);
        assertEquals(plain, tb.macFlops(), 0.0, "dwconv7Batchnorm counts dwconv7's multiply-adds");
        assertEquals(98.0 * n * c * h * w, plain, 0.0);
        // ... and books them to its own row of the breakdown (bench --breakdown's GFLOP column)
        assertEquals(98L * n * c * h * w, tb.stats().get("dwconv7 +bn")[3]);
    }

    /**
     * A whole step's count equals the closed form: forward Σ 2·MACs over the stem convolutions,
     * the 2×2 downsamplings, every block (depthwise 7×7, pwconv1, pwconv2), each Up's gate
     * (C→3C), linear1, linear2 and Conv1×1 over [skip, low], the output 1×1; backward twice that,
     * less the stem convolution's data gradient (its input is the image).
     */
    @Test void trainStepCountMatchesTheArchitecture() {
        CpuBackend be = new CpuBackend();
        TimedBackend tb = new TimedBackend(be);
        int n = 1, in = 3, cls = 2, bc = 4, s = 64;
        ConvUNeXt.Config mc = new ConvUNeXt.Config(in, cls, bc, Norm.BATCH);
        SplittableRandom r = new SplittableRandom(5);
        float[] img = new float[n * in * s * s], tg = new float[n * s * s];
        for (int i = 0; i < img.length; i++) img[i] = (float) r.nextGaussian();
        for (int i = 0; i < tg.length; i++) tg[i] = r.nextInt(cls);
        double counted;
        java.util.Map<String, long[]> ops;
        try (ConvUNeXt model = new ConvUNeXt(mc, tb, 1); AdamW opt = AdamW.withDefaults(model.params)) {
            Tensor x = be.upload(img, n, in, s, s), t = be.upload(tg, n, s, s);
            tb.reset();
            TrainStep.run(model, opt, x, t, 1e-4);
            counted = tb.macFlops();
            ops = new java.util.TreeMap<>(tb.stats());
        }
        assertEquals(expectedStepFlops(n, in, cls, bc, s), counted, 0.0);
        // The breakdown's per-op FLOPs: every counted FLOP booked to the op that made it, so the
        // rows add up to the floor; ops without multiply-adds (norms, GELU, gates, loss, AdamW) book none.
        long booked = 0;
        for (java.util.Map.Entry<String, long[]> e : ops.entrySet()) {
            booked += e.getValue()[3];
            boolean mac = e.getKey().matches("(conv2d|linear|linearCat|mlp|dwconv7)( .*)?");
            assertEquals(mac, e.getValue()[3] > 0, e.getKey() + ": " + e.getValue()[3] + " FLOPs booked");
        }
        assertEquals(counted, booked, 0.0);
    }

    private static double expectedStepFlops(int n, int in, int cls, int b, int s) {
        double fwd = 0, stemConv = 0;
        // in_conv: 7×7 in→b (reflect), then a Block at b (its dwconv + MLP)
        double p0 = (double) n * s * s;
        stemConv = 2 * p0 * b * in * 49;
        fwd += stemConv + block(p0, b);
        int[] ch = {b, 2 * b, 4 * b, 8 * b, 8 * b}, depth = {0, 1, 1, 3, 1};
        double p = p0;
        for (int d = 1; d <= 4; d++) {
            p /= 4;
            fwd += 2 * p * ch[d] * ch[d - 1] * 4;   // 2×2 stride-2 conv
            for (int i = 0; i < depth[d]; i++) fwd += block(p, ch[d]);
        }
        // up1..up4: (low channels, out channels) as in ConvUNeXt; low is upsampled to the skip's size
        int[][] ups = {{8 * b, 4 * b}, {4 * b, 2 * b}, {2 * b, b}, {b, b}};
        int[] skip = {8 * b, 4 * b, 2 * b, b};
        for (int u = 0; u < 4; u++) {
            p *= 4;
            int c = skip[u];
            fwd += 2 * p * (3.0 * c) * c + 2 * p * c * c + 2 * p * c * c;   // gate, linear1, linear2
            fwd += 2 * p * ups[u][1] * (c + ups[u][0]);                   // Conv1×1 over [skip', low]
            fwd += block(p, ups[u][1]);
        }
        fwd += 2 * p * cls * b;   // output 1×1
        return fwd + 2 * fwd - stemConv;
    }

    /** A ConvNeXt block at c channels over p pixels: depthwise 7×7, pwconv1 c→4c, pwconv2 4c→c. */
    private static double block(double p, int c) { return 98.0 * p * c + 2 * 2 * p * c * 4.0 * c; }

    private static Tensor up(CpuBackend be, SplittableRandom r, int... shape) {
        int len = 1;
        for (int d : shape) len *= d;
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) (0.5 + r.nextDouble());
        return be.upload(a, shape);
    }
}
