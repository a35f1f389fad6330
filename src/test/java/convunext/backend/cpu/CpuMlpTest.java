package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import convunext.backend.cpu.ref.D;
import convunext.backend.cpu.ref.RefGelu;
import convunext.backend.cpu.ref.RefMlp;
import convunext.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pixel-block MLP (CpuMlp) against RefMlp, normwise 1e-5 as the GEMMs it is made of, with both
 * SimdOps. Its saved state is gelu'(pre) (checked against float64, 1e-6 absolute as GELU′'s own
 * test). Shapes: several pixel blocks per image with a partial last one (H·W not a multiple of the
 * block), vector tails, Hd > 256 (two K blocks in the second GEMM), one pixel; bit equality at 1
 * thread and at all threads; the default composition (Backend.mlp) agrees.
 */
class CpuMlpTest {
    private static final CpuBackend BE = new CpuBackend();

    /** N(mean, 1) values at an offset inside a larger buffer. */
    private static Tensor randn(Random r, double mean, int... shape) { return CpuTestTensors.randn(BE, r, mean, shape); }

    private static D d(Tensor t) { return t == null ? null : D.fromFloats(t.array(), t.off(), t.shape()); }

    /** Normwise relative error of got against ref (max abs error over max abs reference). */
    private static double relErr(D ref, Tensor got) {
        assertArrayEquals(ref.shape, got.shape(), "shape");
        double num = 0, den = 0;
        for (int i = 0; i < ref.data.length; i++) {
            double v = got.array()[got.off() + i];
            assertTrue(Double.isFinite(v), "non-finite value at " + i);
            num = Math.max(num, Math.abs(v - ref.data[i]));
            den = Math.max(den, Math.abs(ref.data[i]));
        }
        return den == 0 ? num : num / den;
    }

    /** The reference non-trivial (a test cannot pass on zeros) and got within tol of it. */
    private static void check(String what, D ref, Tensor got, double tol) {
        double m = 0;
        for (double v : ref.data) m = Math.max(m, Math.abs(v));
        assertTrue(m > 1e-6, what + ": reference is all zeros");
        double e = relErr(ref, got);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    private static final double TOL = 1e-5;
    private static final List<SimdOps> OPS = List.of(SimdOps.BEST, new ScalarOps());

    @Test void oddSizes() { run(2, 5, 19, 7, 5, 7, true, 1); }

    /** Level-0-like channels over more pixels than one block (Hd 128: 512-pixel blocks). */
    @Test void severalBlocks() { run(2, 32, 128, 32, 23, 37, true, 2); }

    /** Hd 600: two K blocks in the second GEMM, blocks of 96 pixels; no biases. */
    @Test void wideHidden() { run(1, 13, 600, 11, 17, 13, false, 3); }

    @Test void onePixel() { run(3, 9, 36, 9, 1, 1, true, 4); }

    private static void run(int n, int c, int hd, int co, int h, int w, boolean bias, long seed) {
        Random r = new Random(seed);
        Tensor x = randn(r, 0.1, n, c, h, w), w1 = randn(r, 0, hd, c), w2 = randn(r, 0, co, hd);
        Tensor b1 = bias ? randn(r, 0.1, hd) : null, b2 = bias ? randn(r, 0.1, co) : null;
        CpuTestTensors.scale(w1, 1 / Math.sqrt(c));   // pre ~ N(·, 1): GELU's curved part, both tails
        CpuTestTensors.scale(w2, 1 / Math.sqrt(hd));
        Tensor gy = randn(r, 0, n, co, h, w);
        D[] ref = RefMlp.mlp(d(x), d(w1), d(b1), d(w2), d(b2), true);
        String at = n + "x" + c + "→" + hd + "→" + co + " @" + h + "x" + w + (bias ? " bias" : "");
        for (SimdOps ops : OPS) {
            String what = at + " " + ops.describe();
            Tensor[] inf = CpuMlp.forward(BE, x, w1, b1, w2, b2, false, ops);
            check("mlp y (infer) " + what, ref[0], inf[0], TOL);
            assertNull(inf[1]);
            assertNull(inf[2]);
            Tensor[] got = CpuMlp.forward(BE, x, w1, b1, w2, b2, true, ops);
            check("mlp y " + what, ref[0], got[0], TOL);
            assertArrayEquals(BE.download(inf[0]), BE.download(got[0]), "mlp y: inference and training bits " + what);
            // Training's y is pwconv2 over the saved h, bit for bit (the second GEMM reads h from the
            // block in cache, not from the saved tensor: the same values, products and order).
            Tensor y2 = CpuLinear.forward(BE, got[1], w2, b2);
            assertArrayEquals(BE.download(y2), BE.download(got[0]), "mlp y: pwconv2 over the saved h " + what);
            BE.release(y2);
            check("mlp h " + what, ref[1], got[1], TOL);
            D grad = new D(ref[2].shape);
            for (int i = 0; i < grad.data.length; i++) grad.data[i] = RefGelu.geluGrad(ref[2].data[i]);
            assertTrue(maxAbs(grad, got[2]) <= 1e-6, "mlp state gelu'(pre) " + what);
            D[] rg = RefMlp.mlpBackward(d(x), d(w1), d(w2), d(gy), ref[1], ref[2], true, bias, bias);
            Tensor[] g = CpuMlp.backward(BE, x, w1, w2, gy, got[1], got[2], true, bias, bias, ops);
            String[] names = {"dx", "dw1", "db1", "dw2", "db2"};
            for (int i = 0; i < 5; i++) {
                if (rg[i] == null) assertNull(g[i], names[i] + " " + what);
                else check("mlpBackward " + names[i] + " " + what, rg[i], g[i], TOL);
            }
            threadsAgree(what, x, w1, b1, w2, b2, gy, ops);
            release(inf);
            release(got);
            release(g);
        }
    }

    private static double maxAbs(D ref, Tensor got) {
        double m = 0;
        for (int i = 0; i < ref.data.length; i++) m = Math.max(m, Math.abs(got.array()[got.off() + i] - ref.data[i]));
        return m;
    }

    /** Same bits at 1 thread and at every thread the pool has. */
    private static void threadsAgree(String what, Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor gy, SimdOps ops) {
        int all = CpuThreads.threads();
        List<float[]> one, many;
        try {
            CpuThreads.setThreads(1);
            one = all(x, w1, b1, w2, b2, gy, ops);
        } finally {
            CpuThreads.setThreads(all);
        }
        many = all(x, w1, b1, w2, b2, gy, ops);
        for (int i = 0; i < one.size(); i++) assertArrayEquals(one.get(i), many.get(i), "output " + i + ", 1 vs " + all + " threads: " + what);
    }

    private static List<float[]> all(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor gy, SimdOps ops) {
        Tensor[] f = CpuMlp.forward(BE, x, w1, b1, w2, b2, true, ops);
        Tensor[] g = CpuMlp.backward(BE, x, w1, w2, gy, f[1], f[2], true, b1 != null, b2 != null, ops);
        List<float[]> out = new java.util.ArrayList<>();
        for (Tensor t : f) out.add(BE.download(t));
        for (Tensor t : g) if (t != null) out.add(BE.download(t));
        release(f);
        release(g);
        return out;
    }

    private static void release(Tensor[] ts) { for (Tensor t : ts) if (t != null) BE.release(t); }

    /** CpuBackend's entry points are these; the interface's default composition agrees with them. */
    @Test void backendEntryPointsAndDefaultComposition() {
        Random r = new Random(5);
        Tensor x = randn(r, 0, 2, 6, 9, 5), w1 = randn(r, 0, 24, 6), b1 = randn(r, 0, 24), w2 = randn(r, 0, 6, 24), b2 = randn(r, 0, 6);
        Tensor gy = randn(r, 0, 2, 6, 9, 5);
        convunext.backend.Backend composed = new convunext.backend.Backend() {   // the default methods over BE's ops
            @Override public String name() { return "composed"; }
            @Override public String describe() { return "composed"; }
            @Override public Tensor empty(int... s) { return BE.empty(s); }
            @Override public Tensor zeros(int... s) { return BE.zeros(s); }
            @Override public Tensor upload(float[] a, int... s) { return BE.upload(a, s); }
            @Override public float[] download(Tensor t) { return BE.download(t); }
            @Override public Tensor view(Tensor b, long o, int... s) { return BE.view(b, o, s); }
            @Override public void release(Tensor t) { BE.release(t); }
            @Override public void copy(Tensor a, Tensor b) { BE.copy(a, b); }
            @Override public void fill(Tensor t, float v) { BE.fill(t, v); }
            @Override public void addInPlace(Tensor d, Tensor s) { BE.addInPlace(d, s); }
            @Override public Tensor conv2d(Tensor a, Tensor b, Tensor c, int s, int p, boolean rf) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] conv2dBackward(Tensor a, Tensor b, Tensor c, int s, int p, boolean rf, boolean d, boolean h) { throw new UnsupportedOperationException(); }
            @Override public Tensor linear(Tensor a, Tensor b, Tensor c) { return BE.linear(a, b, c); }
            @Override public Tensor[] linearBackward(Tensor a, Tensor b, Tensor c, boolean d, boolean h) { return BE.linearBackward(a, b, c, d, h); }
            @Override public Tensor[] linearGelu(Tensor a, Tensor b, Tensor c, boolean k) { return BE.linearGelu(a, b, c, k); }
            @Override public Tensor linearBackwardDataGelu(Tensor a, Tensor b, Tensor c) { return BE.linearBackwardDataGelu(a, b, c); }
            @Override public Tensor dwconv7(Tensor a, Tensor b, Tensor c) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] dwconv7Backward(Tensor a, Tensor b, Tensor c) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] batchnormTrain(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e, float m, float ep) { throw new UnsupportedOperationException(); }
            @Override public Tensor batchnormEval(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e, float ep) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] batchnormBackward(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] layernorm(Tensor a, Tensor b, Tensor c, float e) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] layernormBackward(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e) { throw new UnsupportedOperationException(); }
            @Override public Tensor gelu(Tensor a) { throw new UnsupportedOperationException(); }
            @Override public Tensor geluBackward(Tensor a, Tensor b) { throw new UnsupportedOperationException(); }
            @Override public Tensor add(Tensor a, Tensor b) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] addGelu(Tensor a, Tensor b, boolean k) { throw new UnsupportedOperationException(); }
            @Override public Tensor gateIn(Tensor a, Tensor b) { throw new UnsupportedOperationException(); }
            @Override public Tensor gateOut(Tensor a, Tensor b, Tensor c) { throw new UnsupportedOperationException(); }
            @Override public Tensor[] gateOutBackward(Tensor a, Tensor b, Tensor c, Tensor d) { throw new UnsupportedOperationException(); }
            @Override public Tensor gateInBackward(Tensor a, int c) { throw new UnsupportedOperationException(); }
            @Override public Tensor upsample2x(Tensor a) { throw new UnsupportedOperationException(); }
            @Override public Tensor upsample2xBackward(Tensor a) { throw new UnsupportedOperationException(); }
            @Override public Tensor pad2d(Tensor a, int t, int b, int l, int r) { throw new UnsupportedOperationException(); }
            @Override public Tensor pad2dBackward(Tensor a, int t, int l, int h, int w) { throw new UnsupportedOperationException(); }
            @Override public Tensor concat(Tensor a, Tensor b) { throw new UnsupportedOperationException(); }
            @Override public Tensor sliceChannels(Tensor a, int c0, int c1) { throw new UnsupportedOperationException(); }
            @Override public convunext.backend.LossResult ceDiceLoss(Tensor a, Tensor b) { throw new UnsupportedOperationException(); }
            @Override public void adamw(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float b1, float b2, float e, float wd, int s) {
                throw new UnsupportedOperationException();
            }
        };
        Tensor[] f = BE.mlp(x, w1, b1, w2, b2, true), c = composed.mlp(x, w1, b1, w2, b2, true);
        D ref = RefMlp.mlp(d(x), d(w1), d(b1), d(w2), d(b2), false)[0];
        check("mlp (CpuBackend)", ref, f[0], TOL);
        check("mlp (default composition)", ref, c[0], TOL);
        Tensor[] gf = BE.mlpBackward(x, w1, w2, gy, f[1], f[2], true, true, true);
        Tensor[] gc = composed.mlpBackward(x, w1, w2, gy, c[1], c[2], true, true, true);
        for (int i = 0; i < 5; i++) assertTrue(relErr(d(gc[i]), gf[i]) <= TOL, "mlpBackward output " + i + ": fused vs composed");
    }

    @Test void shapeMismatchNamesOp() {
        Random r = new Random(7);
        var e1 = assertThrows(IllegalArgumentException.class,
                () -> BE.mlp(randn(r, 0, 1, 3, 2, 2), randn(r, 0, 8, 3), null, randn(r, 0, 3, 7), null, false));
        assertTrue(e1.getMessage().startsWith("mlp"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> BE.mlpBackward(randn(r, 0, 1, 3, 2, 2), randn(r, 0, 8, 3), randn(r, 0, 3, 8), randn(r, 0, 1, 4, 2, 2),
                        randn(r, 0, 1, 8, 2, 2), randn(r, 0, 1, 8, 2, 2), true, false, false));
        assertEquals(true, e2.getMessage().startsWith("mlpBackward"), e2.getMessage());
    }
}
