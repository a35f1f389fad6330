package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API {@link SimdOps}. GELU uses the erfc fit of {@link CpuElementwise#erfc} in float with
 * the vector exp, keeping the tail accurate: x² is split exactly (x·x plus its FMA rounding
 * error) and exp(−x²/2) is taken apart from exp(poly), so no large exponent loses low bits.
 * Relative error stays within a few 1e-7 of Φ over the whole range.
 */
final class VectorOps implements SimdOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final float INV_SQRT2 = 0.70710678f, INV_SQRT_2PI = 0.39894228f;

    @Override public String describe() { return "vector " + S; }

    private static FloatVector c(float v) { return FloatVector.broadcast(S, v); }

    /** exp(−x²/2) with x² split exactly (x·x plus its FMA rounding error). */
    private static FloatVector expHalfSq(FloatVector x) {
        FloatVector xx = x.mul(x);
        FloatVector err = x.fma(x, xx.neg());
        return xx.mul(-0.5f).lanewise(VectorOperators.EXP).mul(err.fma(c(-0.5f), c(1f)));
    }

    /** Φ(x) given e = exp(−x²/2). */
    private static FloatVector phi(FloatVector x, FloatVector e) {
        FloatVector a = x.abs().mul(INV_SQRT2);
        FloatVector t = c(1f).div(a.fma(c(0.5f), c(1f)));
        FloatVector q = t.fma(c(0.17087277f), c(-0.82215223f));
        q = q.fma(t, c(1.48851587f));
        q = q.fma(t, c(-1.13520398f));
        q = q.fma(t, c(0.27886807f));
        q = q.fma(t, c(-0.18628806f));
        q = q.fma(t, c(0.09678418f));
        q = q.fma(t, c(0.37409196f));
        q = q.fma(t, c(1.00002368f));
        q = q.fma(t, c(-1.26551223f));
        FloatVector half = t.mul(e).mul(q.lanewise(VectorOperators.EXP)).mul(0.5f);   // erfc(|x|/√2)/2
        VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
        return half.blend(c(1f).sub(half), pos);
    }

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.mul(phi(v, expHalfSq(v))).intoArray(y, yo + i);
        }
        if (i < n) new ScalarOps().gelu(x, xo + i, y, yo + i, n - i);
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector e = expHalfSq(v);
            FloatVector d = v.mul(INV_SQRT_2PI).fma(e, phi(v, e));
            d.mul(FloatVector.fromArray(S, dy, dyo + i)).intoArray(dx, dxo + i);
        }
        if (i < n) new ScalarOps().geluBackward(x, xo + i, dy, dyo + i, dx, dxo + i, n - i);
    }

    @Override public void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw) {
        int wp = w + 6, wv = w - w % L;
        float[] lanes = new float[L];
        for (int r0 = 0; r0 < h; r0 += ROWS) {
            int rows = Math.min(ROWS, h - r0);
            for (int t = 0; t < 49; t++) {
                int s = (r0 + t / 7) * wp + t % 7, g = dyo + r0 * w;
                blockDot(dy, g, w, pad, s, wp, rows, wv, lanes);
                double sum = 0;
                for (int l = 0; l < L; l++) sum += lanes[l];
                for (int r = 0; r < rows; r++)
                    for (int i = wv; i < w; i++) sum += (double) dy[g + r * w + i] * pad[s + r * wp + i];
                gw[t] += sum;
            }
        }
    }

    /**
     * Lane partial sums over {@code rows} rows of Σ_{i<wv} dy[g + r·w + i]·pad[s + r·wp + i].
     * Kept small so C2 inlines the Vector API calls (a method too large to inline them runs the
     * boxed fallback, ~20× slower).
     */
    private static void blockDot(float[] dy, int g, int w, float[] pad, int s, int wp, int rows, int wv, float[] lanes) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        for (int r = 0; r < rows; r++, g += w, s += wp) {
            int i = 0;
            for (; i + 2 * L <= wv; i += 2 * L) {
                a0 = FloatVector.fromArray(S, dy, g + i).fma(FloatVector.fromArray(S, pad, s + i), a0);
                a1 = FloatVector.fromArray(S, dy, g + i + L).fma(FloatVector.fromArray(S, pad, s + i + L), a1);
            }
            if (i < wv) a0 = FloatVector.fromArray(S, dy, g + i).fma(FloatVector.fromArray(S, pad, s + i), a0);
        }
        a0.add(a1).intoArray(lanes, 0);   // lanes summed in double by the caller (no reduceLanes: slow here)
    }

    /** Rows per float partial sum of {@link #tapSums} before it is added in double. */
    private static final int ROWS = 16;

    @Override public void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n) {
        int i = 0;
        // Four output vectors at a time: four independent FMA chains hide the FMA latency.
        for (; i + 4 * L <= n; i += 4 * L) {
            FloatVector a0 = FloatVector.broadcast(S, init), a1 = a0, a2 = a0, a3 = a0;
            for (int ky = 0; ky < 7; ky++)
                for (int kx = 0; kx < 7; kx++) {
                    FloatVector t = FloatVector.broadcast(S, w[wo + ky * 7 + kx]);
                    int s = so + ky * ld + kx + i;
                    a0 = FloatVector.fromArray(S, src, s).fma(t, a0);
                    a1 = FloatVector.fromArray(S, src, s + L).fma(t, a1);
                    a2 = FloatVector.fromArray(S, src, s + 2 * L).fma(t, a2);
                    a3 = FloatVector.fromArray(S, src, s + 3 * L).fma(t, a3);
                }
            a0.intoArray(y, yo + i);
            a1.intoArray(y, yo + i + L);
            a2.intoArray(y, yo + i + 2 * L);
            a3.intoArray(y, yo + i + 3 * L);
        }
        for (; i + L <= n; i += L) {
            FloatVector a0 = FloatVector.broadcast(S, init), a1 = FloatVector.zero(S);
            for (int ky = 0; ky < 7; ky++) {
                int s = so + ky * ld + i, k = wo + ky * 7;
                a0 = FloatVector.fromArray(S, src, s).fma(FloatVector.broadcast(S, w[k]), a0);
                a1 = FloatVector.fromArray(S, src, s + 1).fma(FloatVector.broadcast(S, w[k + 1]), a1);
                a0 = FloatVector.fromArray(S, src, s + 2).fma(FloatVector.broadcast(S, w[k + 2]), a0);
                a1 = FloatVector.fromArray(S, src, s + 3).fma(FloatVector.broadcast(S, w[k + 3]), a1);
                a0 = FloatVector.fromArray(S, src, s + 4).fma(FloatVector.broadcast(S, w[k + 4]), a0);
                a1 = FloatVector.fromArray(S, src, s + 5).fma(FloatVector.broadcast(S, w[k + 5]), a1);
                a0 = FloatVector.fromArray(S, src, s + 6).fma(FloatVector.broadcast(S, w[k + 6]), a0);
            }
            a0.add(a1).intoArray(y, yo + i);
        }
        if (i < n) new ScalarOps().row7(src, so + i, ld, w, wo, init, y, yo + i, n - i);
    }
}
