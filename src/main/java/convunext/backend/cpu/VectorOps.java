package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
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
    /** Vector tails; one instance (not one per call: ops run per GEMM panel in CpuLinearGelu). */
    private static final ScalarOps SCALAR = new ScalarOps();

    @Override public String describe() { return "vector " + S; }

    private static FloatVector c(float v) { return FloatVector.broadcast(S, v); }

    /*
     * GELU and its derivative are each one flat loop with exp(−x²/2) and the erfc fit written out,
     * no helper calls (the two loops repeat the same lines on purpose): the methods are then larger
     * than C2 inlines at a hot call site (FreqInlineSize, 325 bytecodes) and get compiled on their
     * own. With helpers, inlined into a large caller (the GEMM with CpuLinearGelu's epilogue), the
     * helpers hit C2's node-count cutoff and inlining depth, stayed calls, and their vector results
     * were boxed: ~500 MB allocated per linearBackwardDataGelu at 2×128×256², 2× slower.
     *
     * e = exp(−x²/2) with x² split exactly (x·x plus its FMA rounding error); Φ(x) from
     * erfc(|x|/√2)/2 = t·e·exp(poly(t))/2 with t = 1/(1 + |x|/(2√2)), reflected for x ≥ 0.
     */

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector one = c(1f), half = c(0.5f), minusHalf = c(-0.5f);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector xx = v.mul(v);
            FloatVector e = xx.mul(-0.5f).lanewise(VectorOperators.EXP).mul(v.fma(v, xx.neg()).fma(minusHalf, one));
            FloatVector t = one.div(v.abs().mul(INV_SQRT2).fma(half, one));
            FloatVector q = t.fma(c(0.17087277f), c(-0.82215223f));
            q = q.fma(t, c(1.48851587f));
            q = q.fma(t, c(-1.13520398f));
            q = q.fma(t, c(0.27886807f));
            q = q.fma(t, c(-0.18628806f));
            q = q.fma(t, c(0.09678418f));
            q = q.fma(t, c(0.37409196f));
            q = q.fma(t, c(1.00002368f));
            q = q.fma(t, c(-1.26551223f));
            FloatVector hc = t.mul(e).mul(q.lanewise(VectorOperators.EXP)).mul(0.5f);
            FloatVector phi = hc.blend(one.sub(hc), v.compare(VectorOperators.GE, 0f));
            v.mul(phi).intoArray(y, yo + i);
        }
        if (i < n) SCALAR.gelu(x, xo + i, y, yo + i, n - i);
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        FloatVector one = c(1f), half = c(0.5f), minusHalf = c(-0.5f);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector xx = v.mul(v);
            FloatVector e = xx.mul(-0.5f).lanewise(VectorOperators.EXP).mul(v.fma(v, xx.neg()).fma(minusHalf, one));
            FloatVector t = one.div(v.abs().mul(INV_SQRT2).fma(half, one));
            FloatVector q = t.fma(c(0.17087277f), c(-0.82215223f));
            q = q.fma(t, c(1.48851587f));
            q = q.fma(t, c(-1.13520398f));
            q = q.fma(t, c(0.27886807f));
            q = q.fma(t, c(-0.18628806f));
            q = q.fma(t, c(0.09678418f));
            q = q.fma(t, c(0.37409196f));
            q = q.fma(t, c(1.00002368f));
            q = q.fma(t, c(-1.26551223f));
            FloatVector hc = t.mul(e).mul(q.lanewise(VectorOperators.EXP)).mul(0.5f);
            FloatVector phi = hc.blend(one.sub(hc), v.compare(VectorOperators.GE, 0f));
            FloatVector d = v.mul(INV_SQRT_2PI).fma(e, phi);   // Φ(x) + x·φ(x)
            d.mul(FloatVector.fromArray(S, dy, dyo + i)).intoArray(dx, dxo + i);
        }
        if (i < n) SCALAR.geluBackward(x, xo + i, dy, dyo + i, dx, dxo + i, n - i);
    }

    /**
     * One pass per kernel row ky over blocks of {@link #ROWS} output rows: each dy vector is
     * loaded once and multiplied into the seven kx-shifted pad vectors (8 loads per 7 FMAs, all
     * from the L1-resident block). The previous loop, one dot product per tap, loaded both
     * operands for every FMA and, worse, carried its vector accumulators through two nested
     * loops, which C2 (JDK 17) could not keep unboxed: it allocated ~12 GB/s of vector boxes
     * and ran ~16× slower than the forward. Accumulators now live in one flat loop per row.
     */
    @Override public void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw) {
        int wp = w + 6, wv = w - w % L;
        float[] lanes = new float[7 * L];
        for (int r0 = 0; r0 < h; r0 += ROWS) {
            int rows = Math.min(ROWS, h - r0), g = dyo + r0 * w;
            for (int ky = 0; ky < 7; ky++) {
                int s = (r0 + ky) * wp;
                if (wv > 0) {
                    java.util.Arrays.fill(lanes, 0f);
                    for (int r = 0; r < rows; r++) rowTaps(dy, g + r * w, pad, s + r * wp, wv, lanes);
                    for (int kx = 0; kx < 7; kx++) {
                        double sum = 0;
                        for (int l = 0; l < L; l++) sum += lanes[kx * L + l];
                        gw[ky * 7 + kx] += sum;
                    }
                }
                for (int r = 0; r < rows; r++)
                    for (int i = wv; i < w; i++) {
                        double d = dy[g + r * w + i];
                        for (int kx = 0; kx < 7; kx++) gw[ky * 7 + kx] += d * pad[s + r * wp + i + kx];
                    }
            }
        }
    }

    /** lanes[kx·L + l] += Σ_{i&lt;wv, i ≡ l mod L} dy[g + i]·pad[s + i + kx]: one row, one flat loop. */
    private static void rowTaps(float[] dy, int g, float[] pad, int s, int wv, float[] lanes) {
        FloatVector a0 = FloatVector.fromArray(S, lanes, 0), a1 = FloatVector.fromArray(S, lanes, L);
        FloatVector a2 = FloatVector.fromArray(S, lanes, 2 * L), a3 = FloatVector.fromArray(S, lanes, 3 * L);
        FloatVector a4 = FloatVector.fromArray(S, lanes, 4 * L), a5 = FloatVector.fromArray(S, lanes, 5 * L);
        FloatVector a6 = FloatVector.fromArray(S, lanes, 6 * L);
        for (int i = 0; i < wv; i += L) {
            FloatVector d = FloatVector.fromArray(S, dy, g + i);
            int q = s + i;
            a0 = d.fma(FloatVector.fromArray(S, pad, q), a0);
            a1 = d.fma(FloatVector.fromArray(S, pad, q + 1), a1);
            a2 = d.fma(FloatVector.fromArray(S, pad, q + 2), a2);
            a3 = d.fma(FloatVector.fromArray(S, pad, q + 3), a3);
            a4 = d.fma(FloatVector.fromArray(S, pad, q + 4), a4);
            a5 = d.fma(FloatVector.fromArray(S, pad, q + 5), a5);
            a6 = d.fma(FloatVector.fromArray(S, pad, q + 6), a6);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        a4.intoArray(lanes, 4 * L);
        a5.intoArray(lanes, 5 * L);
        a6.intoArray(lanes, 6 * L);
    }

    /** Rows per float partial sum of {@link #tapSums} (the dy and pad rows of a block stay in L1). */
    private static final int ROWS = 8;

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
        if (i < n) SCALAR.row7(src, so + i, ld, w, wo, init, y, yo + i, n - i);
    }

    /**
     * σ(x) from e = exp(−|x|) (never overflows): σ(|x|) = 1/(1+e), σ(−|x|) = e/(1+e). No
     * operator chosen at run time: a non-constant comparison is not intrinsified and boxes.
     */
    private static FloatVector sigmoid(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP), r = c(1f).div(e.add(1f));
        return e.mul(r).blend(r, x.compare(VectorOperators.GE, 0f));
    }

    /** 1 − σ(x) = σ(−x), exact where 1 − σ would cancel. */
    private static FloatVector sigmoidNeg(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP), r = c(1f).div(e.add(1f));
        return e.mul(r).blend(r, x.compare(VectorOperators.LT, 0f));
    }

    /** 1 − tanh²(x) = 4e/(1+e)² with e = exp(−2|x|), accurate where tanh → ±1. */
    private static FloatVector sech2(FloatVector x) {
        FloatVector e = x.abs().mul(-2f).lanewise(VectorOperators.EXP), r = c(1f).div(e.add(1f));
        return e.mul(4f).mul(r).mul(r);
    }

    @Override public void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector sa = sigmoid(FloatVector.fromArray(S, a, ao + i));
            FloatVector s1 = sigmoid(FloatVector.fromArray(S, g, g1 + i));
            FloatVector th = FloatVector.fromArray(S, g, g2 + i).lanewise(VectorOperators.TANH);
            sa.fma(FloatVector.fromArray(S, s, so + i), s1.mul(th)).intoArray(out, oo + i);
        }
        if (i < n) SCALAR.gateOut(a, ao + i, s, so + i, g, g1 + i, g2 + i, out, oo + i, n - i);
    }

    /**
     * Two loops (da, ds then dg1, dg2): one loop with all of it grew too large for C2 to inline
     * the σ helpers, and every vector they returned was boxed.
     */
    @Override public void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                                          float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n) {
        int nv = n - n % L;
        gateGradA(a, ao, s, so, d, dOff, da, dao, ds, dso, nv);
        gateGradG(g, g1, g2, d, dOff, dg, dg1, dg2, nv);
        if (nv < n) SCALAR.gateOutBackward(a, ao + nv, s, so + nv, g, g1 + nv, g2 + nv, d, dOff + nv,
                da, dao + nv, ds, dso + nv, dg, dg1 + nv, dg2 + nv, n - nv);
    }

    /** da = d·s·σ(a)·σ(−a), ds = d·σ(a) over nv (a multiple of L) elements. */
    private static void gateGradA(float[] a, int ao, float[] s, int so, float[] d, int dOff,
                                  float[] da, int dao, float[] ds, int dso, int nv) {
        for (int i = 0; i < nv; i += L) {
            FloatVector av = FloatVector.fromArray(S, a, ao + i);
            FloatVector dsa = FloatVector.fromArray(S, d, dOff + i).mul(sigmoid(av));
            dsa.intoArray(ds, dso + i);
            dsa.mul(FloatVector.fromArray(S, s, so + i)).mul(sigmoidNeg(av)).intoArray(da, dao + i);
        }
    }

    /** dg1 = d·tanh(g2)·σ(g1)·σ(−g1), dg2 = d·σ(g1)·sech²(g2) over nv elements. */
    private static void gateGradG(float[] g, int g1, int g2, float[] d, int dOff, float[] dg, int dg1, int dg2, int nv) {
        for (int i = 0; i < nv; i += L) {
            FloatVector g1v = FloatVector.fromArray(S, g, g1 + i), g2v = FloatVector.fromArray(S, g, g2 + i);
            FloatVector ds1 = FloatVector.fromArray(S, d, dOff + i).mul(sigmoid(g1v));
            ds1.mul(g2v.lanewise(VectorOperators.TANH)).mul(sigmoidNeg(g1v)).intoArray(dg, dg1 + i);
            ds1.mul(sech2(g2v)).intoArray(dg, dg2 + i);
        }
    }
}
