package convunext.backend.cpu;

import convunext.backend.LossResult;
import convunext.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Every CpuBackend op, forward and backward, on fixed random inputs at odd shapes, reduced to a
 * digest of its output bits. {@link #main} prints them (run in a second JVM, e.g. under -Xint, by
 * {@link DeterminismTest}); {@code scale} 1 gives shapes that stay under the threading thresholds,
 * larger scales split every op over the pool.
 */
public final class OpDigests {
    private OpDigests() {}

    private static final CpuBackend BE = new CpuBackend();

    private static Tensor t(long seed, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (1.5 * r.nextGaussian());
        return BE.upload(a, shape);
    }

    private static long digest(Tensor... ts) {
        long h = 1125899906842597L;
        for (Tensor x : ts) {
            if (x == null) continue;
            for (float f : BE.download(x)) h = 31 * h + Float.floatToRawIntBits(f);
            BE.release(x);
        }
        return h;
    }

    /** Op name → digest, in a fixed order. Sizes grow with {@code scale} (1: small; 3: threaded). */
    public static Map<String, Supplier<Long>> ops(int scale) {
        int n = 2, c = 8 * scale + 3, h = 9 * scale + 4, w = 11 * scale + 2;
        Tensor x = t(1, n, c, h, w), s = t(2, n, c, h, w), g3 = t(3, n, 3 * c, h, w), x4 = t(4, n, 4 * c, h, w);
        Tensor wl = t(5, 4 * c, c), b4 = t(6, 4 * c), w2 = t(7, c, 4 * c), dw = t(8, c, 1, 7, 7), bc = t(9, c);
        Tensor gam = t(10, c), bet = t(11, c), wc = t(12, 2 * c, c, 2, 2), bc2 = t(13, 2 * c);
        Tensor xs = t(14, n, 3, 2 * h + 1, 2 * w + 1), ws = t(15, c, 3, 7, 7);
        Tensor logits = t(16, n, 3, h, w), wcat = t(25, c, 4 * c, 1, 1);
        float[] tg = new float[n * h * w];
        for (int i = 0; i < tg.length; i++) tg[i] = i % 7 == 0 ? 255 : i % 3;
        Tensor tgt = BE.upload(tg, n, h, w);
        Map<String, Supplier<Long>> m = new LinkedHashMap<>();
        m.put("gelu", () -> digest(BE.gelu(x)));
        m.put("geluBackward", () -> digest(BE.geluBackward(x, s)));
        m.put("addGelu", () -> digest(BE.addGelu(x, s, true)));
        m.put("add", () -> digest(BE.add(x, s)));
        m.put("linear", () -> digest(BE.linear(x, wl, b4)));
        m.put("linearBackward", () -> digest(BE.linearBackward(x, wl, x4, true, true)));
        m.put("linearCat", () -> digest(BE.linearCat(x, g3, wcat, bc)));
        m.put("linearCatBackward", () -> digest(BE.linearCatBackward(x, g3, wcat, s, true, true, true)));
        m.put("linearGelu", () -> digest(BE.linearGelu(x, wl, b4, true)));
        m.put("linearBackwardDataGelu", () -> digest(BE.linearBackwardDataGelu(w2, x, x4)));
        m.put("mlp", () -> digest(BE.mlp(x, wl, b4, w2, bc, true)));
        m.put("mlp infer", () -> digest(BE.mlp(x, wl, b4, w2, bc, false)));
        m.put("mlpBackward", () -> {
            Tensor[] f = BE.mlp(x, wl, b4, w2, bc, true);
            return digest(BE.mlpBackward(x, wl, w2, s, f[1], f[2], true, true, true));
        });
        m.put("dwconv7", () -> digest(BE.dwconv7(x, dw, bc)));
        m.put("dwconv7Backward", () -> digest(BE.dwconv7Backward(x, dw, s)));
        m.put("conv2d 2x2", () -> digest(BE.conv2d(x, wc, bc2, 2, 0, false)));
        m.put("conv2dBackward 2x2", () -> digest(BE.conv2dBackward(x, wc, t(17, n, 2 * c, h / 2, w / 2), 2, 0, false, true, true)));
        m.put("conv2d 7x7 reflect", () -> digest(BE.conv2d(xs, ws, bc, 1, 3, true)));
        m.put("conv2dBackward 7x7 reflect", () -> digest(BE.conv2dBackward(xs, ws, t(18, n, c, 2 * h + 1, 2 * w + 1), 1, 3, true, true, true)));
        m.put("batchnormTrain", () -> digest(BE.batchnormTrain(x, gam, bet, t(19, c), BE.upload(new float[c], c), 0.1f, 1e-5f)));
        m.put("batchnormBackward", () -> {
            Tensor[] f = BE.batchnormTrain(x, gam, bet, t(19, c), BE.upload(new float[c], c), 0.1f, 1e-5f);
            return digest(BE.batchnormBackward(x, s, gam, f[1], f[2])) ^ digest(f);
        });
        m.put("layernorm", () -> digest(BE.layernorm(x, gam, bet, 1e-6f)));
        m.put("layernormBackward", () -> {
            Tensor[] f = BE.layernorm(x, gam, bet, 1e-6f);
            return digest(BE.layernormBackward(x, s, gam, f[1], f[2])) ^ digest(f);
        });
        m.put("gateIn", () -> digest(BE.gateIn(g3, s)));
        m.put("gateOut", () -> digest(BE.gateOut(x, s, g3)));
        m.put("gateOutBackward", () -> digest(BE.gateOutBackward(x, s, g3, t(20, n, c, h, w))));
        m.put("upsample2x", () -> digest(BE.upsample2x(x)));
        m.put("upsample2xBackward", () -> digest(BE.upsample2xBackward(t(21, n, c, 2 * h, 2 * w))));
        m.put("pad2d", () -> digest(BE.pad2d(x, 1, 2, 0, 3)));
        m.put("concat", () -> digest(BE.concat(x, s)));
        m.put("ceDiceLoss", () -> {
            LossResult r = BE.ceDiceLoss(logits, tgt);
            return digest(r.dlogits()) ^ Double.doubleToLongBits(r.loss());
        });
        m.put("adamw", () -> {
            Tensor p = t(22, 4099), g = t(23, 4099), mm = t(24, 4099), v = BE.upload(new float[4099], 4099);
            BE.adamw(p, g, mm, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 5e-5f, 3);
            return digest(p, mm, v);
        });
        return m;
    }

    /** Prints "op digest" lines for {@code args[0]} = scale (default 1). */
    public static void main(String[] args) {
        for (var e : ops(args.length > 0 ? Integer.parseInt(args[0]) : 1).entrySet())
            System.out.println(e.getKey() + " " + Long.toHexString(e.getValue().get()));
    }
}
