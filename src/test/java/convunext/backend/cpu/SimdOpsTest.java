package convunext.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import convunext.backend.cpu.ref.RefGelu;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both SimdOps implementations (the scalar one runs without the Vector API module): GELU and its
 * derivative per element against RefGelu (relative 1e-6, derivative 1e-6 absolute since |Φ+xφ| ≤ 1.13),
 * (plus float's subnormal spacing), and row7 against a float64 loop (1e-5 of Σ|w·x|), at lengths with vector tails.
 */
class SimdOpsTest {
    private static List<SimdOps> impls() { return List.of(new ScalarOps(), SimdOps.BEST); }

    @Test void gelu() {
        Random r = new Random(61);
        int n = 203;
        float[] x = new float[n + 3], dy = new float[n + 1], y = new float[n + 2], dx = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (-14 + 22 * r.nextDouble());
        for (int i = 0; i < dy.length; i++) dy[i] = 1f;
        for (SimdOps ops : impls()) {
            ops.gelu(x, 3, y, 2, n);
            ops.geluBackward(x, 3, dy, 1, dx, 0, n);
            for (int i = 0; i < n; i++) {
                double v = x[3 + i], g = RefGelu.gelu(v);
                assertEquals(g, y[2 + i], 1e-6 * Math.abs(g) + Float.MIN_NORMAL, ops.describe() + " gelu(" + v + ")");
                assertEquals(RefGelu.geluGrad(v), dx[i], 1e-6, ops.describe() + " gelu'(" + v + ")");
            }
        }
    }

    /**
     * BatchNorm's double sums against a float64 loop over the same floats (the shifted differences
     * are exact in double and so are the squares' FMAs up to one rounding each: relative 1e-13 of
     * Σ|·| is ~1000× the worst accumulation error at these lengths), across the vector/chunk
     * boundaries (16-lane vectors, 4096-float chunks) and with a non-zero start offset; and the
     * float maps bnApply / bnBackwardApply: the same bits in every implementation (one fma chain per
     * element, vector body or tail).
     */
    @Test void batchnormSumsAndMaps() {
        Random r = new Random(63);
        for (int n : new int[] {1, 15, 17, 203, 4096, 4111, 9000}) {
            float[] x = new float[n + 5], dy = new float[n + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) (2.5 + 3 * r.nextGaussian());
            for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
            double shift = x[5], m = 2.25;
            double s = 0, ss = 0, abs = 0, g = 0, gx = 0, gabs = 0, gxabs = 0;
            for (int i = 0; i < n; i++) {
                double d = x[5 + i] - shift, e = x[5 + i] - m;
                s += d; ss += d * d; abs += Math.abs(d);
                g += dy[3 + i]; gabs += Math.abs(dy[3 + i]);
                gx += dy[3 + i] * e; gxabs += Math.abs(dy[3 + i] * e);
            }
            float[] ref = null, refDx = null;
            for (SimdOps ops : impls()) {
                double[] acc = {0.5, -0.25}, gacc = {0, 0};   // the sums add into acc
                ops.bnSums(x, 5, n, shift, acc);
                ops.bnGradSums(dy, 3, x, 5, n, m, gacc);
                String tag = ops.describe() + " n=" + n;
                assertEquals(s + 0.5, acc[0], 1e-13 * (abs + 1), tag + " Σd");
                assertEquals(ss - 0.25, acc[1], 1e-13 * (ss + 1), tag + " Σd²");
                assertEquals(g, gacc[0], 1e-13 * gabs, tag + " Σdy");
                assertEquals(gx, gacc[1], 1e-13 * gxabs, tag + " Σdy(x−m)");
                float[] y = new float[n + 1], dx = new float[n + 2];
                ops.bnApply(x, 5, y, 1, n, 2.25f, 0.7f, -0.3f);
                ops.bnBackwardApply(x, 5, dy, 3, dx, 2, n, 2.25f, 0.7f, -0.011f, 0.02f);
                for (int i = 0; i < n; i++) {
                    assertEquals(Math.fma(x[5 + i] - 2.25f, 0.7f, -0.3f), y[1 + i], 0f, tag + " bnApply");
                    assertEquals(Math.fma(0.7f, dy[3 + i], Math.fma(-0.011f, x[5 + i] - 2.25f, 0.02f)), dx[2 + i], 0f, tag + " bnBackwardApply");
                }
                if (ref == null) { ref = y; refDx = dx; }
                else {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(ref, y, tag);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(refDx, dx, tag);
                }
            }
        }
    }

    /** add, mulInPlace and blend: IEEE operations per element in a fixed order, so the vector body and the scalar tail give ScalarOps' bits, in place or not. */
    @Test void addAndMulMatchScalarBits() {
        Random r = new Random(67);
        SimdOps scalar = new ScalarOps();
        for (int n : new int[] {1, 7, 17, 203, 4111}) {
            float[] a = new float[n + 3], b = new float[n + 5];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextGaussian() * 1e3);
            float[] want = new float[n + 2], got = new float[n + 2];
            scalar.add(a, 2, b, 4, want, 1, n);
            SimdOps.BEST.add(a, 2, b, 4, got, 1, n);
            assertArrayEquals(want, got, "add into a third array, n " + n);
            float[] inPlace = b.clone();
            SimdOps.BEST.add(a, 2, inPlace, 4, inPlace, 4, n);   // y is b (the residual adds)
            for (int i = 0; i < n; i++) assertEquals(want[1 + i], inPlace[4 + i], 0f, "add in place, n " + n + " at " + i);
            float[] m1 = a.clone(), m2 = a.clone();
            scalar.mulInPlace(m1, 1, b, 3, n);
            SimdOps.BEST.mulInPlace(m2, 1, b, 3, n);
            assertArrayEquals(m1, m2, "mulInPlace, n " + n);
            float[] bl1 = new float[n + 4], bl2 = new float[n + 4];
            scalar.blend(a, 3, 0.37f, b, 1, -1.7f, bl1, 4, n);
            SimdOps.BEST.blend(a, 3, 0.37f, b, 1, -1.7f, bl2, 4, n);
            assertArrayEquals(bl1, bl2, "blend, n " + n);
            float[] be1 = new float[n + 4], be2 = new float[n + 4];
            scalar.blendEach(b, 2, a, 3, a, 1, b, 0, be1, 4, n);
            SimdOps.BEST.blendEach(b, 2, a, 3, a, 1, b, 0, be2, 4, n);
            assertArrayEquals(be1, be2, "blendEach, n " + n);
            for (int i = 0; i < n; i++)   // two products and their sum, no fused multiply-add
                assertEquals(0.37f * a[3 + i] + -1.7f * b[1 + i], bl2[4 + i], 0f, "blend, n " + n + " at " + i);
        }
    }

    @Test void row7() {
        Random r = new Random(62);
        int n = 83, ld = n + 6 + 5;
        float[] src = new float[7 * ld + 4], w = new float[50], y = new float[n + 2];
        for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (SimdOps ops : impls()) {
            ops.row7(src, 4, ld, w, 1, 0.25f, y, 2, n, SimdOps.taps7(ld));
            for (int i = 0; i < n; i++) {
                double s = 0.25, mag = 0.25;
                for (int ky = 0; ky < 7; ky++)
                    for (int kx = 0; kx < 7; kx++) {
                        double t = (double) w[1 + ky * 7 + kx] * src[4 + ky * ld + kx + i];
                        s += t;
                        mag += Math.abs(t);
                    }
                assertEquals(s, y[2 + i], 1e-5 * mag, ops.describe() + " row7 at " + i);
            }
        }
        // Vector rows (four-vector blocks, single vectors, the overlapping last vector) give the
        // scalar loop's bits at every length.
        for (int len : new int[] {n, 16, 17, 31, 64, 70, 5}) {
            float[] a = new float[len], b = new float[len];
            SimdOps.BEST.row7(src, 4, ld, w, 1, 0.25f, a, 0, len, SimdOps.taps7(ld));
            new ScalarOps().row7(src, 4, ld, w, 1, 0.25f, b, 0, len, SimdOps.taps7(ld));
            org.junit.jupiter.api.Assertions.assertArrayEquals(b, a, "row7 vector vs scalar bits, n = " + len);
        }
    }

    /**
     * row7x4 gives the bits of four scalar row7 calls at lengths covering the four-vector blocks
     * (AVX-512's own loop), the row7x2 rest and its overlapping last vector, on every
     * implementation; a wrong tap table is refused.
     */
    @Test void row7x4() {
        Random r = new Random(66);
        int ld = 150;
        float[] src = new float[10 * ld + 9], w = new float[50];
        for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (SimdOps ops : impls())
            for (int len : new int[] {5, 16, 17, 31, 63, 64, 65, 70, 79, 96, 101, 128, 129, 143}) {
                int ldy = len + 3;
                float[] a = new float[4 * ldy + 1], b = new float[4 * ldy + 1];
                ops.row7x4(src, 4, ld, w, 1, 0.25f, a, 1, ldy, len, SimdOps.taps7(ld));
                for (int j = 0; j < 4; j++)
                    new ScalarOps().row7(src, 4 + j * ld, ld, w, 1, 0.25f, b, 1 + j * ldy, len, SimdOps.taps7(ld));
                org.junit.jupiter.api.Assertions.assertArrayEquals(b, a, ops.describe() + " row7x4 vs four scalar row7, n = " + len);
            }
        for (SimdOps ops : impls()) {
            float[] y = new float[4 * 40];
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ops.row7x4(src, 4, ld, w, 1, 0.25f, y, 0, 40, 40, SimdOps.taps7(ld - 1)));
        }
    }

    /** row7x2 gives the bits of two row7 calls (and the scalar loop's) at lengths covering every vector path. */
    @Test void row7x2() {
        Random r = new Random(65);
        int ld = 150;
        float[] src = new float[8 * ld + 9], w = new float[50];
        for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int len : new int[] {5, 16, 17, 31, 32, 33, 47, 64, 70, 96, 101, 128, 143}) {
            int ldy = len + 3;
            float[] a = new float[2 * ldy], b = new float[2 * ldy];
            SimdOps.BEST.row7x2(src, 4, ld, w, 1, 0.25f, a, 1, ldy, len, SimdOps.taps7(ld));
            new ScalarOps().row7(src, 4, ld, w, 1, 0.25f, b, 1, len, SimdOps.taps7(ld));
            new ScalarOps().row7(src, 4 + ld, ld, w, 1, 0.25f, b, 1 + ldy, len, SimdOps.taps7(ld));
            org.junit.jupiter.api.Assertions.assertArrayEquals(b, a, "row7x2 vs two scalar row7, n = " + len);
        }
        // A tap table made for another row step is refused, not read at the wrong offsets.
        for (SimdOps ops : impls()) {
            float[] y = new float[2 * 40];
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ops.row7x2(src, 4, ld, w, 1, 0.25f, y, 0, 40, 40, SimdOps.taps7(ld - 1)));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ops.row7(src, 4, ld, w, 1, 0.25f, y, 0, 40, SimdOps.taps7(ld + 6)));
        }
    }

    /**
     * The vector tapSums keeps one summation order whichever loop runs (shared pad rows for wide
     * planes, flat row blocks for narrow ones): per tap and lane a float fma chain over blocks of
     * {@code flushRows} rows (8, more for rows of few vectors; rows in order, the row's vectors in
     * order), added in double lane by lane, then the block's scalar tail columns. Checked bit for bit
     * against that order written out, with planes of several blocks at each block height.
     */
    @Test void tapSumsOrder() {
        if (!(SimdOps.BEST instanceof VectorOps)) return;
        int lanes = VectorDw7.L;
        Random r = new Random(66);
        int[][] shapes = {{19, 37}, {9, 2 * lanes}, {21, 8 * lanes}, {13, 8 * lanes + 5}, {4, 9 * lanes}, {3, 5}, {17, 4 * lanes + 1},
                {70, 2 * lanes}, {41, 4 * lanes + 3}, {35, 16 * lanes + 1}, {150, lanes + 2}};
        for (int[] hw : shapes) {
            int h = hw[0], w = hw[1], wp = w + 6, wv = w - w % lanes, fr = VectorDw7.flushRows(wv);
            float[] dy = new float[h * w + 3], pad = new float[(h + 6) * wp];
            for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
            for (int i = 0; i < pad.length; i++) pad[i] = (float) (r.nextGaussian() + 0.5);
            double[] want = new double[49], got = new double[49];
            want[5] = got[5] = -0.75;
            for (int r0 = 0; r0 < h; r0 += fr)
                for (int ky = 0; ky < 7; ky++) {
                    int rows = Math.min(fr, h - r0);
                    if (wv > 0) {
                        float[] acc = new float[7 * lanes];
                        for (int y = r0; y < r0 + rows; y++)
                            for (int x = 0; x < wv; x++)
                                for (int kx = 0; kx < 7; kx++)
                                    acc[kx * lanes + x % lanes] = Math.fma(dy[3 + y * w + x], pad[(y + ky) * wp + x + kx], acc[kx * lanes + x % lanes]);
                        for (int kx = 0; kx < 7; kx++) {
                            double s = 0;
                            for (int l = 0; l < lanes; l++) s += acc[kx * lanes + l];
                            want[ky * 7 + kx] += s;
                        }
                    }
                    for (int y = r0; y < r0 + rows; y++)
                        for (int x = wv; x < w; x++)
                            for (int kx = 0; kx < 7; kx++) want[ky * 7 + kx] += (double) dy[3 + y * w + x] * pad[(y + ky) * wp + x + kx];
                }
            SimdOps.BEST.tapSums(dy, 3, pad, h, w, got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, "tapSums order, h = " + h + ", w = " + w);
        }
    }

    @Test void tapSums() {
        Random r = new Random(63);
        int h = 19, w = 37, wp = w + 6;
        float[] dy = new float[h * w + 2], pad = new float[(h + 6) * wp];
        for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
        for (int i = 0; i < pad.length; i++) pad[i] = (float) (r.nextGaussian() + 0.5);
        for (SimdOps ops : impls()) {
            double[] gw = new double[49];
            gw[3] = 1.5;
            ops.tapSums(dy, 2, pad, h, w, gw);
            for (int t = 0; t < 49; t++) {
                double s = t == 3 ? 1.5 : 0, mag = Math.abs(s);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        double v = (double) dy[2 + y * w + x] * pad[(y + t / 7) * wp + x + t % 7];
                        s += v;
                        mag += Math.abs(v);
                    }
                assertEquals(s, gw[t], 1e-5 * mag, ops.describe() + " tapSums tap " + t);
            }
        }
    }

    private static double sig(double v) { return 1 / (1 + Math.exp(-v)); }

    /** gateOut and its gradients per element against float64 formulas (1e-6 of the term magnitudes), wide inputs included. */
    @Test void gate() {
        Random r = new Random(64);
        int n = 77;
        float[] a = new float[n + 1], s = new float[n + 2], g = new float[2 * n + 9], d = new float[n + 4];
        for (float[] v : List.of(a, s, g, d)) for (int i = 0; i < v.length; i++) v[i] = (float) (6 * r.nextGaussian());
        a[5] = -120f; g[7] = 95f; g[n + 9] = -0.001f;     // exp overflow either way, tanh near 0
        for (SimdOps ops : impls()) {
            float[] out = new float[n + 3], da = new float[n], ds = new float[n + 1], dg = new float[2 * n + 11];
            ops.gateOut(a, 1, s, 2, g, 5, n + 7, out, 3, n);
            ops.gateOutBackward(a, 1, s, 2, g, 5, n + 7, d, 4, da, 0, ds, 1, dg, 3, n + 9, n);
            for (int i = 0; i < n; i++) {
                double av = a[1 + i], sv = s[2 + i], g1 = g[5 + i], g2 = g[n + 7 + i], dv = d[4 + i];
                double sa = sig(av), s1 = sig(g1), th = Math.tanh(g2);
                String at = ops.describe() + " at " + i;
                assertEquals(sa * sv + s1 * th, out[3 + i], 1e-6 * (Math.abs(sa * sv) + Math.abs(s1 * th)) + 1e-37, "gateOut " + at);
                assertEquals(dv * sv * sa * (1 - sa), da[i], 1e-6 * Math.abs(dv * sv) * sa * (1 - sa) + 1e-37, "da " + at);
                assertEquals(dv * sa, ds[1 + i], 1e-6 * Math.abs(dv * sa) + 1e-37, "ds " + at);
                assertEquals(dv * th * s1 * (1 - s1), dg[3 + i], 1e-6 * Math.abs(dv * th) * s1 * (1 - s1) + 1e-37, "dg1 " + at);
                assertEquals(dv * s1 * (1 - th * th), dg[n + 9 + i], 2e-6 * Math.abs(dv * s1) + 1e-37, "dg2 " + at);
            }
        }
    }

    /**
     * The gate's vector body (VectorGate: chunks of 4096 floats, then the scalar tail) gives
     * ScalarOps' bits at lengths below one vector, odd lengths, and lengths across the chunk
     * boundary, at odd offsets; inputs include ±0, subnormal-small, and exp-underflowing values.
     */
    @Test void gateVectorEqualsScalarBits() {
        Random r = new Random(65);
        for (int n : new int[] {1, 15, 17, 77, 4095, 4096, 4113, 8192 + 37}) {
            float[] a = new float[n + 1], s = new float[n + 2], g = new float[2 * n + 9], d = new float[n + 4];
            for (float[] v : List.of(a, s, g, d))
                for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() < 0.05 ? 40 * r.nextGaussian() : 2.5 * r.nextGaussian());
            a[1] = 0f; g[5] = -0f; g[n + 7] = 1e-30f; a[n] = -120f; g[6] = 95f; g[n + 8] = -0.001f;
            float[][] res = new float[2][];
            int k = 0;
            for (SimdOps ops : List.of(new ScalarOps(), SimdOps.BEST)) {
                float[] out = new float[n + 3], da = new float[n], ds = new float[n + 1], dg = new float[2 * n + 11];
                ops.gateOut(a, 1, s, 2, g, 5, n + 7, out, 3, n);
                ops.gateOutBackward(a, 1, s, 2, g, 5, n + 7, d, 4, da, 0, ds, 1, dg, 3, n + 9, n);
                float[] all = new float[out.length + da.length + ds.length + dg.length];
                int o = 0;
                for (float[] v : List.of(out, da, ds, dg)) { System.arraycopy(v, 0, all, o, v.length); o += v.length; }
                res[k++] = all;
            }
            int[] b0 = new int[res[0].length], b1 = new int[res[1].length];
            for (int i = 0; i < b0.length; i++) { b0[i] = Float.floatToRawIntBits(res[0][i]); b1[i] = Float.floatToRawIntBits(res[1][i]); }
            org.junit.jupiter.api.Assertions.assertArrayEquals(b0, b1, "gate vector vs scalar bits, n = " + n);
        }
    }

    /**
     * AdamW's vector loop gives ScalarOps' bits (p, m and v) at lengths below one vector, odd
     * lengths and odd offsets, over three steps' scalars (step 1, 2 and 1000, with and without
     * decay); gradients include ±0, 1e-30 (v underflows to 0: √0 + eps), 1e4 and negative values.
     */
    @Test void adamwVectorEqualsScalarBits() {
        Random r = new Random(66);
        for (int n : new int[] {1, 15, 17, 77, 1001}) {
            float[] p0 = new float[n + 1], g = new float[n + 2], m0 = new float[n + 3], v0 = new float[n + 4];
            for (int i = 0; i < p0.length; i++) p0[i] = (float) r.nextGaussian();
            for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextDouble() < 0.1 ? 1e4 * r.nextGaussian() : 0.03 * r.nextGaussian());
            for (int i = 0; i < m0.length; i++) m0[i] = (float) (0.01 * r.nextGaussian());
            for (int i = 0; i < v0.length; i++) v0[i] = (float) (1e-4 * r.nextDouble());
            g[2] = 0f;
            g[Math.min(3, n + 1)] = -0f;
            g[n + 1] = 1e-30f;
            m0[3 + n - 1] = 0f;
            v0[4 + n - 1] = 0f;
            for (CpuAdamW.Coeffs k : List.of(new CpuAdamW.Coeffs(0.9f, 0.999f, 0.1f, 0.001f, 0.031622775f, 1e-8f, 0.99999f, 0.01f),
                    new CpuAdamW.Coeffs(0.9f, 0.999f, 0.1f, 0.001f, 0.04469897f, 1e-8f, 1f, 0.0052631576f),
                    new CpuAdamW.Coeffs(0.8f, 0.99f, 0.2f, 0.01f, 0.99995686f, 1e-6f, 0.9995f, 3e-4f))) {
                int[][] bits = new int[2][];
                int j = 0;
                for (SimdOps ops : List.of(new ScalarOps(), SimdOps.BEST)) {
                    float[] p = p0.clone(), m = m0.clone(), v = v0.clone();
                    ops.adamw(k, p, 1, g, 2, m, 3, v, 4, n);
                    float[] all = new float[p.length + m.length + v.length];
                    System.arraycopy(p, 0, all, 0, p.length);
                    System.arraycopy(m, 0, all, p.length, m.length);
                    System.arraycopy(v, 0, all, p.length + m.length, v.length);
                    bits[j] = new int[all.length];
                    for (int i = 0; i < all.length; i++) bits[j][i] = Float.floatToRawIntBits(all[i]);
                    j++;
                }
                org.junit.jupiter.api.Assertions.assertArrayEquals(bits[0], bits[1], "adamw vector vs scalar bits, n = " + n + ", " + k);
            }
        }
    }
}
