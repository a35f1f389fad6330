package convunext.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The gate's vector bodies for {@link VectorOps}: out = σ(a)·s + σ(g1)·tanh(g2) and its gradients,
 * each element through {@link FloatMath}'s operations in FloatMath's order (the same bits as
 * {@link ScalarOps}). With e = e^(−|x|) and r = 1/(1 + e): σ(x) = r for x ≥ 0 else e·r, σ(−x) = r
 * for x &lt; 0 else e·r. With e = e^(−2|x|) and r = 1/(1 + e): tanh(x) = x + x·z·P(z) (z = x²) for
 * |x| &lt; 0.625 else ±(1 − e)/(1 + e), sech²(x) = 4e·r².
 *
 * <p>Three passes per block of {@link #BLOCK} floats, one per input (g2, g1, a), each with its one
 * exp written out in the loop (|x|·scale, FloatMath.exp), the values the next pass needs left in
 * L1 scratch rows. The previous form made nine (per input: |x|·scale, the exp in place, then the
 * combining pass) and ran about 1.5–1.9× slower (bench/NOTES.md, round 9). Why not one pass with
 * the three exps: it ran faster still on its own, but compiled inside a training step C2 left
 * vector operations un-intrinsified (boxed: 337 MiB allocated per step by the gate, each way);
 * each loop here is about GELU's size, which C2 keeps in registers (see VectorOps on C2 and vector
 * values), and each is over 325 bytes of bytecode, too large for C2 to inline into the block loop.
 * Every exp argument is ≤ 0 (or NaN), so FloatMath.exp's upper clamp (min with EXP_HI), the
 * identity there, is left out: the same bits.
 */
final class VectorGate {
    private VectorGate() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int BLOCK = 512;
    /** Two BLOCK-float rows per thread (4 KiB: a block's working set stays in L1). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[2 * BLOCK]);

    /** out = σ(a)·s + σ(g1)·tanh(g2) for n (a multiple of the vector length) elements: FloatMath's order. */
    static void gateOut(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] out, int oo, int n) {
        float[] sc = SCRATCH.get();
        for (int b = 0; b < n; b += BLOCK) {
            int len = Math.min(BLOCK, n - b);
            tanhRow(g, g2 + b, sc, len);
            sigmoidTimesRow(g, g1 + b, sc, len);
            sigmoidFma(a, ao + b, s, so + b, sc, out, oo + b, len);
        }
    }

    /** da = (d·σ(a))·s·σ(−a), ds = d·σ(a); dg1 = (d·σ(g1))·tanh(g2)·σ(−g1), dg2 = (d·σ(g1))·sech²(g2). */
    static void gateOutBackward(float[] a, int ao, float[] s, int so, float[] g, int g1, int g2, float[] d, int dOff,
                                float[] da, int dao, float[] ds, int dso, float[] dg, int dg1, int dg2, int n) {
        float[] sc = SCRATCH.get();
        for (int b = 0; b < n; b += BLOCK) {
            int len = Math.min(BLOCK, n - b);
            sigmoidGrads(a, ao + b, s, so + b, d, dOff + b, da, dao + b, ds, dso + b, len);
            sigmoidRows(g, g1 + b, d, dOff + b, sc, len);
            tanhGrads(g, g2 + b, sc, dg, dg1 + b, dg2 + b, len);
        }
    }

    /** sc[j] ← tanh(g[o + j]) for j &lt; n. */
    private static void tanhRow(float[] g, int o, float[] sc, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector t0 = FloatVector.broadcast(S, FloatMath.T0), t1 = FloatVector.broadcast(S, FloatMath.T1), t2 = FloatVector.broadcast(S, FloatMath.T2);
        FloatVector t3 = FloatVector.broadcast(S, FloatMath.T3), t4 = FloatVector.broadcast(S, FloatMath.T4);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, g, o + j), in = v.abs().mul(-2f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector z = v.mul(v), q = z.fma(t0, t1);
            q = q.fma(z, t2);
            q = q.fma(z, t3);
            q = q.fma(z, t4);
            FloatVector small = q.mul(z).fma(v, v), big = one.sub(e).div(one.add(e));
            big = big.blend(big.neg(), v.compare(VectorOperators.LT, 0f));
            FloatVector th = big.blend(small, v.abs().compare(VectorOperators.LT, FloatMath.TANH_SMALL));
            th.intoArray(sc, j);
        }
    }

    /** sc[j] ← σ(g[o + j])·sc[j] for j &lt; n. */
    private static void sigmoidTimesRow(float[] g, int o, float[] sc, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, g, o + j), in = v.abs().mul(-1f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector rr = one.div(e.add(1f));
            e.mul(rr).blend(rr, v.compare(VectorOperators.GE, 0f)).mul(FloatVector.fromArray(S, sc, j)).intoArray(sc, j);
        }
    }

    /** out[oo + j] ← fma(σ(a[ao + j]), s[so + j], sc[j]) for j &lt; n. */
    private static void sigmoidFma(float[] a, int ao, float[] s, int so, float[] sc, float[] out, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, a, ao + j), in = v.abs().mul(-1f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector rr = one.div(e.add(1f));
            e.mul(rr).blend(rr, v.compare(VectorOperators.GE, 0f)).fma(FloatVector.fromArray(S, s, so + j), FloatVector.fromArray(S, sc, j))
                    .intoArray(out, oo + j);
        }
    }

    /** ds = d·σ(a), da = ds·s·σ(−a). */
    private static void sigmoidGrads(float[] a, int ao, float[] s, int so, float[] d, int dOff, float[] da, int dao,
                                     float[] ds, int dso, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, a, ao + j), in = v.abs().mul(-1f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector rr = one.div(e.add(1f)), er = e.mul(rr);
            FloatVector dsa = FloatVector.fromArray(S, d, dOff + j).mul(er.blend(rr, v.compare(VectorOperators.GE, 0f)));
            dsa.intoArray(ds, dso + j);
            dsa.mul(FloatVector.fromArray(S, s, so + j)).mul(er.blend(rr, v.compare(VectorOperators.LT, 0f))).intoArray(da, dao + j);
        }
    }

    /** Row 0 ← d·σ(g1), row 1 ← σ(−g1). */
    private static void sigmoidRows(float[] g, int o, float[] d, int dOff, float[] sc, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, g, o + j), in = v.abs().mul(-1f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector rr = one.div(e.add(1f)), er = e.mul(rr);
            FloatVector.fromArray(S, d, dOff + j).mul(er.blend(rr, v.compare(VectorOperators.GE, 0f))).intoArray(sc, j);
            er.blend(rr, v.compare(VectorOperators.LT, 0f)).intoArray(sc, BLOCK + j);
        }
    }

    /** dg1 = row 0·tanh(g2)·row 1, dg2 = row 0·sech²(g2) = row 0·(4e·r²). */
    private static void tanhGrads(float[] g, int o, float[] sc, float[] dg, int dg1, int dg2, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector t0 = FloatVector.broadcast(S, FloatMath.T0), t1 = FloatVector.broadcast(S, FloatMath.T1), t2 = FloatVector.broadcast(S, FloatMath.T2);
        FloatVector t3 = FloatVector.broadcast(S, FloatMath.T3), t4 = FloatVector.broadcast(S, FloatMath.T4);
        FloatVector log2e = FloatVector.broadcast(S, FloatMath.LOG2E), round = FloatVector.broadcast(S, FloatMath.ROUND);
        FloatVector ln2hi = FloatVector.broadcast(S, -FloatMath.LN2_HI), ln2lo = FloatVector.broadcast(S, -FloatMath.LN2_LO);
        FloatVector p0 = FloatVector.broadcast(S, FloatMath.P0), p1 = FloatVector.broadcast(S, FloatMath.P1), p2 = FloatVector.broadcast(S, FloatMath.P2);
        FloatVector p3 = FloatVector.broadcast(S, FloatMath.P3), p4 = FloatVector.broadcast(S, FloatMath.P4), p5 = FloatVector.broadcast(S, FloatMath.P5);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, g, o + j), in = v.abs().mul(-2f);
            FloatVector t = in.fma(log2e, round), k = t.sub(FloatMath.ROUND);   // no clamp: see VectorOps' note on exp
            FloatVector r = k.fma(ln2hi, in);
            r = k.fma(ln2lo, r);
            FloatVector p = r.fma(p0, p1);
            p = p.fma(r, p2);
            p = p.fma(r, p3);
            p = p.fma(r, p4);
            p = p.fma(r, p5);
            IntVector bits = t.reinterpretAsInts().sub(FloatMath.ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.fma(r.mul(r), r).add(1f).mul(bits.reinterpretAsFloats()).blend(0f, in.compare(VectorOperators.LT, FloatMath.EXP_LO));
            FloatVector z = v.mul(v), q = z.fma(t0, t1);
            q = q.fma(z, t2);
            q = q.fma(z, t3);
            q = q.fma(z, t4);
            FloatVector small = q.mul(z).fma(v, v), big = one.sub(e).div(one.add(e));
            big = big.blend(big.neg(), v.compare(VectorOperators.LT, 0f));
            FloatVector th = big.blend(small, v.abs().compare(VectorOperators.LT, FloatMath.TANH_SMALL));
            FloatVector rr = one.div(e.add(1f)), ds1 = FloatVector.fromArray(S, sc, j);
            ds1.mul(th).mul(FloatVector.fromArray(S, sc, BLOCK + j)).intoArray(dg, dg1 + j);
            ds1.mul(e.mul(4f).mul(rr).mul(rr)).intoArray(dg, dg2 + j);
        }
    }
}
