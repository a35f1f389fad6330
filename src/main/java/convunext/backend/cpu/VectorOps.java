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

    /** Returns {Φ(x), exp(−x²/2)} lanes. */
    private static FloatVector[] phi(FloatVector x) {
        FloatVector a = x.abs().mul(INV_SQRT2);
        FloatVector t = a.fma(0.5f, 1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector q = t.fma(0.17087277f, -0.82215223f);  // (float, float) overload: t·a + b
        q = q.fma(t, c(1.48851587f));
        q = q.fma(t, c(-1.13520398f));
        q = q.fma(t, c(0.27886807f));
        q = q.fma(t, c(-0.18628806f));
        q = q.fma(t, c(0.09678418f));
        q = q.fma(t, c(0.37409196f));
        q = q.fma(t, c(1.00002368f));
        q = q.fma(t, c(-1.26551223f));
        FloatVector xx = x.mul(x);
        FloatVector err = x.fma(x, xx.neg());                        // x² = xx + err exactly
        FloatVector e = xx.mul(-0.5f).lanewise(VectorOperators.EXP)
                .mul(err.fma(-0.5f, 1f));                              // exp(−x²/2), first order in err
        FloatVector r = t.mul(e).mul(q.lanewise(VectorOperators.EXP));  // erfc(|x|/√2)
        FloatVector half = r.mul(0.5f);
        VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
        FloatVector p = half.blend(FloatVector.broadcast(S, 1f).sub(half), pos);
        return new FloatVector[] {p, e};
    }

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            v.mul(phi(v)[0]).intoArray(y, yo + i);
        }
        if (i < n) new ScalarOps().gelu(x, xo + i, y, yo + i, n - i);
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector[] pe = phi(v);
            FloatVector d = v.mul(INV_SQRT_2PI).fma(pe[1], pe[0]);
            d.mul(FloatVector.fromArray(S, dy, dyo + i)).intoArray(dx, dxo + i);
        }
        if (i < n) new ScalarOps().geluBackward(x, xo + i, dy, dyo + i, dx, dxo + i, n - i);
    }

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
