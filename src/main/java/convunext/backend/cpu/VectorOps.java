package convunext.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API {@link SimdOps}. GELU, σ and tanh are {@link FloatMath}'s, lane by lane: the same
 * operations in the same order, so the same bits as the scalar tails and as {@link ScalarOps}, at
 * any thread count, interpreted or compiled. (No {@code lanewise(EXP/TANH)}: compiled it calls a
 * vendor math stub, interpreted it falls back to Math.exp per lane, and the two round differently.)
 * GELU keeps the tail accurate: x² is split exactly (x·x plus its FMA rounding error), so
 * e^(−x²/2) loses no low bits to a large exponent, and Φ's other factor is a polynomial (no
 * second exp); relative error stays within a few 1e-7 of Φ over the whole range.
 */
final class VectorOps implements SimdOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Vector tails; one instance (not one per call: ops run per GEMM panel in CpuLinearGelu). */
    private static final ScalarOps SCALAR = new ScalarOps();

    @Override public String describe() { return "vector " + S; }

    @Override public int lanes() { return L; }

    /*
     * Every loop here (and in VectorGate) is shaped by C2 (JDK 17): a vector value that crosses a
     * call C2 did not inline is boxed (measured: ~200 MB per GELU of 4 M floats, 4× slower), and C2
     * stops inlining our own helpers once a compiled method passes its node-count cutoff (the JDK's
     * vector methods are force-inlined and never stop). So no loop calls a helper of ours with
     * vector arguments or results: loops use only JDK vector methods and local constants, and calls
     * carry arrays, which cost nothing whether inlined or not.
     */

    /*
     * GELU and GELU′ in one pass per vector: FloatMath.gelu / geluGrad lane by lane (one exp, of
     * −x²/2; Φ from t·E(t)), everything written out inside the loop with JDK vector methods only,
     * so C2 keeps every value in registers (no helper of ours with vector arguments: see above).
     *
     * exp written out here and in VectorGate leaves out FloatMath.exp's clamp of its argument to
     * [EXP_LO, EXP_HI], with the same bits: every argument here is ≤ 0 or NaN (−x²/2, −|x|, −2|x|),
     * so the upper clamp never acts, and a lane below EXP_LO is replaced by 0 by the final blend
     * whatever was computed for it (a NaN stays NaN either way: Java's max keeps it). The clamp was
     * not free: FloatVector.max/min follow Math.max/min (NaN and −0 rules), which C2 (JDK 17) emits
     * as several instructions each; without them GELU ran 0.74–0.82 against 0.87–1.07 ns a value
     * (bench/NOTES.md, round 14).
     */

    @Override public void gelu(float[] x, int xo, float[] y, int yo, int n) {
        int nv = n - n % L;
        FloatVector one = FloatVector.broadcast(S, 1f), minusHalf = FloatVector.broadcast(S, -0.5f), tScale = FloatVector.broadcast(S, FloatMath.T_SCALE);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        FloatVector h0 = FloatVector.broadcast(S, FloatMath.H0), h1 = FloatVector.broadcast(S, FloatMath.H1), h2 = FloatVector.broadcast(S, FloatMath.H2), h3 = FloatVector.broadcast(S, FloatMath.H3), h4 = FloatVector.broadcast(S, FloatMath.H4);
        FloatVector h5 = FloatVector.broadcast(S, FloatMath.H5), h6 = FloatVector.broadcast(S, FloatMath.H6), h7 = FloatVector.broadcast(S, FloatMath.H7), h8 = FloatVector.broadcast(S, FloatMath.H8), h9 = FloatVector.broadcast(S, FloatMath.H9);
        for (int j = 0; j < nv; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            // e^(−v²/2)·(1 − δ/2): FloatMath.gaussian with FloatMath.exp written out
            FloatVector xx = v.mul(v), in = xx.mul(-0.5f);
            FloatVector tt = in.fma(log2e, round), k = tt.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            FloatVector ex = p.fma(r.mul(r), r).add(1f);
            IntVector bits = tt.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            ex = ex.mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector g = ex.mul(v.fma(v, xx.neg()).fma(minusHalf, one));
            // Φ: FloatMath.phi
            FloatVector t = one.div(v.abs().fma(tScale, one));
            FloatVector q = t.fma(h9, h8);
            q = q.fma(t, h7);
            q = q.fma(t, h6);
            q = q.fma(t, h5);
            q = q.fma(t, h4);
            q = q.fma(t, h3);
            q = q.fma(t, h2);
            q = q.fma(t, h1);
            q = q.fma(t, h0);
            FloatVector hc = t.mul(q).mul(g);   // q is ½·E(t): h0…h9 are FloatMath.H0…H9
            v.mul(hc.blend(one.sub(hc), v.compare(VectorOperators.GE, 0f))).intoArray(y, yo + j);
        }
        for (int i = nv; i < n; i++) y[yo + i] = FloatMath.gelu(x[xo + i]);
    }

    @Override public void geluBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        int nv = n - n % L;
        FloatVector one = FloatVector.broadcast(S, 1f), minusHalf = FloatVector.broadcast(S, -0.5f), tScale = FloatVector.broadcast(S, FloatMath.T_SCALE);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        FloatVector h0 = FloatVector.broadcast(S, FloatMath.H0), h1 = FloatVector.broadcast(S, FloatMath.H1), h2 = FloatVector.broadcast(S, FloatMath.H2), h3 = FloatVector.broadcast(S, FloatMath.H3), h4 = FloatVector.broadcast(S, FloatMath.H4);
        FloatVector h5 = FloatVector.broadcast(S, FloatMath.H5), h6 = FloatVector.broadcast(S, FloatMath.H6), h7 = FloatVector.broadcast(S, FloatMath.H7), h8 = FloatVector.broadcast(S, FloatMath.H8), h9 = FloatVector.broadcast(S, FloatMath.H9);
        for (int j = 0; j < nv; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector xx = v.mul(v), in = xx.mul(-0.5f);
            FloatVector tt = in.fma(log2e, round), k = tt.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            FloatVector ex = p.fma(r.mul(r), r).add(1f);
            IntVector bits = tt.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            ex = ex.mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector g = ex.mul(v.fma(v, xx.neg()).fma(minusHalf, one));
            FloatVector t = one.div(v.abs().fma(tScale, one));
            FloatVector q = t.fma(h9, h8);
            q = q.fma(t, h7);
            q = q.fma(t, h6);
            q = q.fma(t, h5);
            q = q.fma(t, h4);
            q = q.fma(t, h3);
            q = q.fma(t, h2);
            q = q.fma(t, h1);
            q = q.fma(t, h0);
            FloatVector hc = t.mul(q).mul(g);   // q is ½·E(t): h0…h9 are FloatMath.H0…H9
            FloatVector phi = hc.blend(one.sub(hc), v.compare(VectorOperators.GE, 0f));
            v.mul(FloatMath.INV_SQRT_2PI).fma(g, phi)   // Φ(x) + x·φ(x)
                    .mul(FloatVector.fromArray(S, dy, dyo + j)).intoArray(dx, dxo + j);
        }
        for (int i = nv; i < n; i++) dx[dxo + i] = FloatMath.geluGrad(x[xo + i]) * dy[dyo + i];
    }

    @Override public void geluWithGrad(float[] x, int xo, float[] y, int yo, float[] d, int dOff, int n) {
        int nv = n - n % L;
        FloatVector one = FloatVector.broadcast(S, 1f), minusHalf = FloatVector.broadcast(S, -0.5f), tScale = FloatVector.broadcast(S, FloatMath.T_SCALE);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        FloatVector h0 = FloatVector.broadcast(S, FloatMath.H0), h1 = FloatVector.broadcast(S, FloatMath.H1), h2 = FloatVector.broadcast(S, FloatMath.H2), h3 = FloatVector.broadcast(S, FloatMath.H3), h4 = FloatVector.broadcast(S, FloatMath.H4);
        FloatVector h5 = FloatVector.broadcast(S, FloatMath.H5), h6 = FloatVector.broadcast(S, FloatMath.H6), h7 = FloatVector.broadcast(S, FloatMath.H7), h8 = FloatVector.broadcast(S, FloatMath.H8), h9 = FloatVector.broadcast(S, FloatMath.H9);
        for (int j = 0; j < nv; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector xx = v.mul(v), in = xx.mul(-0.5f);
            FloatVector tt = in.fma(log2e, round), k = tt.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            FloatVector ex = p.fma(r.mul(r), r).add(1f);
            IntVector bits = tt.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            ex = ex.mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector g = ex.mul(v.fma(v, xx.neg()).fma(minusHalf, one));
            FloatVector t = one.div(v.abs().fma(tScale, one));
            FloatVector q = t.fma(h9, h8);
            q = q.fma(t, h7);
            q = q.fma(t, h6);
            q = q.fma(t, h5);
            q = q.fma(t, h4);
            q = q.fma(t, h3);
            q = q.fma(t, h2);
            q = q.fma(t, h1);
            q = q.fma(t, h0);
            FloatVector hc = t.mul(q).mul(g);   // q is ½·E(t): h0…h9 are FloatMath.H0…H9
            FloatVector phi = hc.blend(one.sub(hc), v.compare(VectorOperators.GE, 0f));
            v.mul(FloatMath.INV_SQRT_2PI).fma(g, phi).intoArray(d, dOff + j);   // Φ(x) + x·φ(x)
            v.mul(phi).intoArray(y, yo + j);
        }
        for (int i = nv; i < n; i++) {
            float v = x[xo + i];
            d[dOff + i] = FloatMath.geluGrad(v);
            y[yo + i] = FloatMath.gelu(v);
        }
    }


    /**
     * ScalarOps.upsampleAdjointRows with L columns per step: each slot's g values gathered once for
     * both rows, the products and sums the scalar loop's, in its order (the same bits). 0.67–0.73×
     * the scalar scatter at the model's planes (16² to 128² inputs, one thread); gathers are slow on
     * this CPU, so narrower rows than one vector stay scalar.
     */
    @Override public void upsampleAdjointRows(float[] row, int[] idx, float[] wt, int slots, int stride, float h0, float h1,
                                              float[] da, int r0, int r1, int c0, int c1) {
        int nv = c0 + (c1 - c0) / L * L;
        FloatVector vh0 = FloatVector.broadcast(S, h0), vh1 = FloatVector.broadcast(S, h1);
        for (int c = c0; c < nv; c += L) {
            FloatVector a0 = FloatVector.fromArray(S, da, r0 + c), a1 = FloatVector.fromArray(S, da, r1 + c);
            for (int s = 0; s < slots; s++) {
                FloatVector g = FloatVector.fromArray(S, row, 0, idx, s * stride + c);
                FloatVector w = FloatVector.fromArray(S, wt, s * stride + c);
                a0 = a0.add(vh0.mul(w).mul(g));
                a1 = a1.add(vh1.mul(w).mul(g));
            }
            a0.intoArray(da, r0 + c);
            a1.intoArray(da, r1 + c);
        }
        if (nv < c1) SCALAR.upsampleAdjointRows(row, idx, wt, slots, stride, h0, h1, da, r0, r1, nv, c1);
    }

    /** ScalarOps.upsampleAdjointHalves with L columns per step, contiguous loads in place of the gathers: the same bits. */
    @Override public void upsampleAdjointHalves(float[] ev, int eo, float[] od, int oo, float[] wt, int stride, float h0, float h1,
                                                float[] da, int r0, int r1, int c0, int c1) {
        int nv = c0 + (c1 - c0) / L * L;
        FloatVector vh0 = FloatVector.broadcast(S, h0), vh1 = FloatVector.broadcast(S, h1);
        for (int c = c0; c < nv; c += L) {
            FloatVector a0 = FloatVector.fromArray(S, da, r0 + c), a1 = FloatVector.fromArray(S, da, r1 + c);
            FloatVector g = FloatVector.fromArray(S, od, oo + c - 1), w = FloatVector.fromArray(S, wt, c);
            a0 = a0.add(vh0.mul(w).mul(g));
            a1 = a1.add(vh1.mul(w).mul(g));
            g = FloatVector.fromArray(S, ev, eo + c);
            w = FloatVector.fromArray(S, wt, stride + c);
            a0 = a0.add(vh0.mul(w).mul(g));
            a1 = a1.add(vh1.mul(w).mul(g));
            g = FloatVector.fromArray(S, od, oo + c);
            w = FloatVector.fromArray(S, wt, 2 * stride + c);
            a0 = a0.add(vh0.mul(w).mul(g));
            a1 = a1.add(vh1.mul(w).mul(g));
            g = FloatVector.fromArray(S, ev, eo + c + 1);
            w = FloatVector.fromArray(S, wt, 3 * stride + c);
            a0 = a0.add(vh0.mul(w).mul(g));
            a1 = a1.add(vh1.mul(w).mul(g));
            a0.intoArray(da, r0 + c);
            a1.intoArray(da, r1 + c);
        }
        if (nv < c1) SCALAR.upsampleAdjointHalves(ev, eo, od, oo, wt, stride, h0, h1, da, r0, r1, nv, c1);
    }

    /**
     * ScalarOps.adamw lane by lane: every operation an IEEE float product, sum, quotient or square
     * root (correctly rounded, as (float) Math.sqrt of a float is), in the scalar loop's order, so
     * the same bits. The scalar loop ran at ≈ 16 ms a step for 3.5 M parameters (a divide, a
     * square root and a second divide per element); this one is bound by the 100 MB it moves.
     */
    @Override public void adamw(CpuAdamW.Coeffs k, float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n) {
        int nv = n - n % L;
        FloatVector beta1 = FloatVector.broadcast(S, k.beta1()), beta2 = FloatVector.broadcast(S, k.beta2());
        FloatVector ob1 = FloatVector.broadcast(S, k.ob1()), ob2 = FloatVector.broadcast(S, k.ob2());
        FloatVector bc2Sqrt = FloatVector.broadcast(S, k.bc2Sqrt()), eps = FloatVector.broadcast(S, k.eps());
        FloatVector decay = FloatVector.broadcast(S, k.decay()), stepSize = FloatVector.broadcast(S, k.stepSize());
        for (int i = 0; i < nv; i += L) {
            FloatVector gi = FloatVector.fromArray(S, g, go + i);
            FloatVector mi = FloatVector.fromArray(S, m, mo + i).mul(beta1).add(ob1.mul(gi));
            FloatVector vi = FloatVector.fromArray(S, v, vo + i).mul(beta2).add(ob2.mul(gi).mul(gi));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            FloatVector denom = vi.sqrt().div(bc2Sqrt).add(eps);
            FloatVector.fromArray(S, p, po + i).mul(decay).sub(stepSize.mul(mi.div(denom))).intoArray(p, po + i);
        }
        if (nv < n) SCALAR.adamw(k, p, po + nv, g, go + nv, m, mo + nv, v, vo + nv, n - nv);
    }

    /**
     * Written out: C2 (JDK 17) leaves the scalar loop unvectorised when y is a or b (it cannot rule
     * out an overlap at other offsets), and the residual adds run in place: 1.29 against 0.18 ns an
     * element, in L1 (bench/NOTES.md, CPU round 20).
     */
    @Override public void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] = a[ao + i] + b[bo + i];
    }

    @Override public void mul(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] = a[ao + i] * b[bo + i];
    }

    @Override public void mulInPlace(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(a, ao + i);
        for (; i < n; i++) a[ao + i] *= b[bo + i];
    }

    /**
     * Written out: C2 (JDK 17) vectorised ScalarOps' loop poorly here (the upsampling's rows from
     * one scratch array): 0.55 against 0.13 ms for 16 planes of 256² (bench/NOTES.md, CPU round 23).
     */
    @Override public void blend(float[] a, int ao, float wa, float[] b, int bo, float wb, float[] y, int yo, int n) {
        FloatVector va = FloatVector.broadcast(S, wa), vb = FloatVector.broadcast(S, wb);
        int i = 0;
        for (; i + L <= n; i += L)
            va.mul(FloatVector.fromArray(S, a, ao + i)).add(vb.mul(FloatVector.fromArray(S, b, bo + i))).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] = wa * a[ao + i] + wb * b[bo + i];
    }

    @Override public void blendEach(float[] wa, int wao, float[] a, int ao, float[] wb, int wbo, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, wa, wao + i).mul(FloatVector.fromArray(S, a, ao + i))
                    .add(FloatVector.fromArray(S, wb, wbo + i).mul(FloatVector.fromArray(S, b, bo + i))).intoArray(y, yo + i);
        if (i < n) SCALAR.blendEach(wa, wao + i, a, ao + i, wb, wbo + i, b, bo + i, y, yo + i, n - i);
    }

    @Override public void tapSums(float[] dy, int dyo, float[] pad, int h, int w, double[] gw) { VectorDw7.tapSums(dy, dyo, pad, h, w, gw); }

    @Override public void dw7TapSumsLanes(float[] dy, int dyo, int ldd, float[] pad, int h, int w, int flushRows, double[] gw) {
        VectorDw7Lanes.tapSums(dy, dyo, ldd, pad, h, w, flushRows, gw);
    }

    /**
     * Two pixel vectors a step, four accumulators each (rows past co computed with zero weights and
     * not stored); the tail through the scalar op, whose chains are the same.
     */
    @Override public void linearNarrow(float[] x, int xo, int ldx, int ci, float[] w4, float[] b4, float[] y, int yo, int ldy, int co, int len) {
        int q = 0;
        FloatVector c0 = FloatVector.broadcast(S, b4[0]), c1 = FloatVector.broadcast(S, b4[1]);
        FloatVector c2 = FloatVector.broadcast(S, b4[2]), c3 = FloatVector.broadcast(S, b4[3]);
        for (; q + 2 * L <= len; q += 2 * L) {
            FloatVector a0 = c0, a1 = c1, a2 = c2, a3 = c3, b0 = c0, b1 = c1, b2 = c2, b3 = c3;
            for (int k = 0, xq = xo + q; k < ci; k++, xq += ldx) {
                FloatVector u = FloatVector.fromArray(S, x, xq), v = FloatVector.fromArray(S, x, xq + L);
                FloatVector w0 = FloatVector.broadcast(S, w4[4 * k]), w1 = FloatVector.broadcast(S, w4[4 * k + 1]);
                FloatVector w2 = FloatVector.broadcast(S, w4[4 * k + 2]), w3 = FloatVector.broadcast(S, w4[4 * k + 3]);
                a0 = u.fma(w0, a0); a1 = u.fma(w1, a1); a2 = u.fma(w2, a2); a3 = u.fma(w3, a3);
                b0 = v.fma(w0, b0); b1 = v.fma(w1, b1); b2 = v.fma(w2, b2); b3 = v.fma(w3, b3);
            }
            int o = yo + q;
            a0.intoArray(y, o);
            b0.intoArray(y, o + L);
            if (co > 1) { a1.intoArray(y, o + ldy); b1.intoArray(y, o + ldy + L); }
            if (co > 2) { a2.intoArray(y, o + 2 * ldy); b2.intoArray(y, o + 2 * ldy + L); }
            if (co > 3) { a3.intoArray(y, o + 3 * ldy); b3.intoArray(y, o + 3 * ldy + L); }
        }
        if (q < len) SCALAR.linearNarrow(x, xo + q, ldx, ci, w4, b4, y, yo + q, ldy, co, len - q);
    }

    @Override public void dw7CorrLanes(float[] src, int lds, float[] wt, float[] out, int ldo, int ho, int wo) {
        VectorDw7Lanes.corr(src, lds, wt, out, ldo, ho, wo);
    }

    @Override public void row7(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int n, int[] taps) {
        VectorDw7.row7(src, so, ld, w, wo, init, y, yo, n, taps);
    }

    @Override public void row7x2(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        VectorDw7.row7x2(src, so, ld, w, wo, init, y, yo, ldy, n, taps);
    }

    @Override public void row7x4(float[] src, int so, int ld, float[] w, int wo, float init, float[] y, int yo, int ldy, int n, int[] taps) {
        VectorDw7.row7x4(src, so, ld, w, wo, init, y, yo, ldy, n, taps);
    }

    /** out = σ(a)·s + σ(g1)·tanh(g2): {@link VectorGate}'s one-pass body, then the scalar tail. */
    @Override public void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n) {
        int nv = n - n % L;
        if (nv > 0) VectorGate.gateOut(a, ao, s, so, g, g1, g2, out, oo, nv);
        if (nv < n) SCALAR.gateOut(a, ao + nv, s, so + nv, g, g1 + nv, g2 + nv, out, oo + nv, n - nv);
    }

    /** da = (d·σ(a))·s·σ(−a), ds = d·σ(a); dg1 = (d·σ(g1))·tanh(g2)·σ(−g1), dg2 = (d·σ(g1))·sech²(g2). */
    @Override public void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                                          float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n) {
        int nv = n - n % L;
        if (nv > 0) VectorGate.gateOutBackward(a, ao, s, so, g, g1, g2, d, dOff, da, dao, ds, dso, dg, dg1, dg2, nv);
        if (nv < n) SCALAR.gateOutBackward(a, ao + nv, s, so + nv, g, g1 + nv, g2 + nv, d, dOff + nv,
                da, dao + nv, ds, dso + nv, dg, dg1 + nv, dg2 + nv, n - nv);
    }

    /*
     * BatchNorm. The sums widen each float vector into two double vectors (F2D, parts 0 and 1) and
     * keep four double accumulators (Σd and Σd² for each half): the scalar loop, one double add
     * chain per sum, ran at ~4 cycles per element (6 ms of level 0's 6.4 ms forward, one thread).
     * The lanes are then added in lane order, then the tail: a fixed order for a given n. No
     * reduceLanes: its floating-point order is unspecified. The loop runs over chunks of at most
     * CHUNK floats per call, the accumulators carried in a per-thread array between chunks: one
     * 64 K-float plane in one loop was compiled on-stack (OSR), where C2 boxed the vectors (63 MB
     * allocated per level-0 call and no speed-up; 2.7 ms instead of 6.4 with OSR off).
     */
    private static final jdk.incubator.vector.VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int DL = D.length();
    /** Float lanes = 2 double lanes (both species are the preferred width); else the scalar loops. */
    private static final boolean WIDEN = S.vectorBitSize() == D.vectorBitSize() && L == 2 * DL;
    private static final int CHUNK = 4096;
    /** Four double accumulator vectors per thread: Σ over parts 0 and 1, then the second sum's. */
    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[4 * DL]);

    @Override public void bnSums(float[] x, int xo, int n, double shift, double[] acc) {
        int nv = WIDEN ? n - n % L : 0;
        if (nv > 0) {
            double[] t = LANES.get();
            java.util.Arrays.fill(t, 0);
            for (int i = 0; i < nv; i += CHUNK) sumsChunk(x, xo + i, Math.min(CHUNK, nv - i), shift, t);
            laneSums(t, acc);
        }
        if (nv < n) SCALAR.bnSums(x, xo + nv, n - nv, shift, acc);
    }

    private static void sumsChunk(float[] x, int xo, int n, double shift, double[] t) {
        DoubleVector sh = DoubleVector.broadcast(D, shift);
        DoubleVector s0 = DoubleVector.fromArray(D, t, 0), s1 = DoubleVector.fromArray(D, t, DL);
        DoubleVector q0 = DoubleVector.fromArray(D, t, 2 * DL), q1 = DoubleVector.fromArray(D, t, 3 * DL);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            DoubleVector d0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).sub(sh);
            DoubleVector d1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1)).sub(sh);
            s0 = s0.add(d0);
            s1 = s1.add(d1);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
        }
        s0.intoArray(t, 0);
        s1.intoArray(t, DL);
        q0.intoArray(t, 2 * DL);
        q1.intoArray(t, 3 * DL);
    }

    @Override public void bnGradSums(float[] dy, int dyo, float[] x, int xo, int n, double m, double[] acc) {
        int nv = WIDEN ? n - n % L : 0;
        if (nv > 0) {
            double[] t = LANES.get();
            java.util.Arrays.fill(t, 0);
            for (int i = 0; i < nv; i += CHUNK) gradSumsChunk(dy, dyo + i, x, xo + i, Math.min(CHUNK, nv - i), m, t);
            laneSums(t, acc);
        }
        if (nv < n) SCALAR.bnGradSums(dy, dyo + nv, x, xo + nv, n - nv, m, acc);
    }

    private static void gradSumsChunk(float[] dy, int dyo, float[] x, int xo, int n, double m, double[] t) {
        DoubleVector mv = DoubleVector.broadcast(D, m);
        DoubleVector s0 = DoubleVector.fromArray(D, t, 0), s1 = DoubleVector.fromArray(D, t, DL);
        DoubleVector q0 = DoubleVector.fromArray(D, t, 2 * DL), q1 = DoubleVector.fromArray(D, t, 3 * DL);
        for (int i = 0; i < n; i += L) {
            FloatVector g = FloatVector.fromArray(S, dy, dyo + i), v = FloatVector.fromArray(S, x, xo + i);
            DoubleVector g0 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector g1 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector d0 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0)).sub(mv);
            DoubleVector d1 = ((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1)).sub(mv);
            s0 = s0.add(g0);
            s1 = s1.add(g1);
            q0 = g0.fma(d0, q0);
            q1 = g1.fma(d1, q1);
        }
        s0.intoArray(t, 0);
        s1.intoArray(t, DL);
        q0.intoArray(t, 2 * DL);
        q1.intoArray(t, 3 * DL);
    }

    /** acc[0] += the lanes of the first sum (part 0's, then part 1's), acc[1] += the second's, in lane order. */
    private static void laneSums(double[] t, double[] acc) {
        double s = 0, q = 0;
        for (int l = 0; l < 2 * DL; l++) {
            s += t[l];
            q += t[2 * DL + l];
        }
        acc[0] += s;
        acc[1] += q;
    }

    @Override public void bnApply(float[] x, int xo, float[] y, int yo, int n, float m, float a, float b) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, x, xo + i).sub(m).fma(a, b).intoArray(y, yo + i);   // fma(x − m, a, b)
        if (i < n) SCALAR.bnApply(x, xo + i, y, yo + i, n - i, m, a, b);
    }

    @Override public void bnBackwardApply(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float m,
                                          float k1, float k2, float k3) {
        FloatVector k1v = FloatVector.broadcast(S, k1);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector inner = FloatVector.fromArray(S, x, xo + i).sub(m).fma(k2, k3);   // fma(k2, x − m, k3)
            k1v.fma(FloatVector.fromArray(S, dy, dyo + i), inner).intoArray(dx, dxo + i);
        }
        if (i < n) SCALAR.bnBackwardApply(x, xo + i, dy, dyo + i, dx, dxo + i, n - i, m, k1, k2, k3);
    }
}
